"""Real-time serving: the model server of one deployment, the endpoint router, the supervisor.

The model server (``create_model_app``) is plain ASGI: the model is loaded once per worker
process, requests are validated against the signature, optionally micro-batched, shed with
503 when the queue is full, measured for Prometheus and sampled into Parquet capture files.
"""

from __future__ import annotations

from modelwright.serving.app import create_model_app
from modelwright.serving.capture import Capture
from modelwright.serving.config import ServingConfig

__all__ = ["Capture", "ServingConfig", "create_model_app"]
