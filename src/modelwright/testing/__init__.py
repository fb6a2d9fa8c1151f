"""Public test helpers: conformance kits for the plug-in points, and local service doubles.

``check_artifact_store(store)`` runs the artifact store contract against any backend;
``check_executor(executor)`` the pipeline executor contract;
``check_flavor(flavor, model, example)`` the model flavor contract;
``check_drift_method(method)`` the drift method contract (``modelwright.monitoring``);
``check_alert_sink(sink, target)`` the alert sink contract (``modelwright.monitors.sinks``);
``LocalS3Server`` starts a throwaway S3-compatible server to run it (and benchmarks) against.
"""

from modelwright.testing._alert_sink import ALERT_SINK_CHECKS, check_alert_sink
from modelwright.testing._artifact_store import ARTIFACT_STORE_CHECKS, check_artifact_store
from modelwright.testing._drift_method import DRIFT_METHOD_CHECKS, check_drift_method
from modelwright.testing._executor import EXECUTOR_CHECKS, check_executor
from modelwright.testing._flavor import FLAVOR_CHECKS, check_flavor
from modelwright.testing._s3 import LocalS3Server

__all__ = [
    "ALERT_SINK_CHECKS",
    "ARTIFACT_STORE_CHECKS",
    "DRIFT_METHOD_CHECKS",
    "EXECUTOR_CHECKS",
    "FLAVOR_CHECKS",
    "LocalS3Server",
    "check_alert_sink",
    "check_artifact_store",
    "check_drift_method",
    "check_executor",
    "check_flavor",
]
