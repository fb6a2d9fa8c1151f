"""Operations of experiment tracking and lineage."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.lineage import models as lin
from modelwright.tracking import models as tr

V1 = "/api/v1"

LIST_EXPERIMENTS = Operation(
    "list_experiments",
    "GET",
    f"{V1}/workspaces/{{workspace}}/experiments",
    tr.ListExperiments,
    Page[tr.ExperimentInfo],
    "modelwright.tracking.service:list_experiments",
    "List a workspace's experiments with their run counts",
    "tracking",
)
RUN_COLUMNS = Operation(
    "run_columns",
    "GET",
    f"{V1}/workspaces/{{workspace}}/run-columns",
    tr.ListRunColumns,
    tr.RunColumns,
    "modelwright.tracking.columns:run_columns",
    "The metric, param and tag keys of an experiment's runs: the columns a runs table can show",
    "tracking",
    reads_only=True,
)
CREATE_EXPERIMENT = Operation(
    "create_experiment",
    "POST",
    f"{V1}/workspaces/{{workspace}}/experiments",
    tr.CreateExperiment,
    tr.ExperimentInfo,
    "modelwright.tracking.service:create_experiment",
    "Create an experiment (starting a run in a new one creates it too)",
    "tracking",
    status=201,
)
START_RUN = Operation(
    "start_run",
    "POST",
    f"{V1}/runs",
    tr.StartRun,
    tr.RunDetail,
    "modelwright.tracking.service:start_run",
    "Start a run in an experiment and environment (the experiment is created if new)",
    "tracking",
    status=201,
)
LOG_BATCH = Operation(
    "log_batch",
    "POST",
    f"{V1}/runs/{{run_id}}/log-batch",
    tr.LogBatch,
    tr.LogBatchResult,
    "modelwright.tracking.service:log_batch",
    "Log metrics (columnar), params and tags to a running run, in one transaction",
    "tracking",
)
END_RUN = Operation(
    "end_run",
    "POST",
    f"{V1}/runs/{{run_id}}/end",
    tr.EndRun,
    tr.RunInfo,
    "modelwright.tracking.service:end_run",
    "End a run as finished, failed or killed",
    "tracking",
    idempotent=True,  # ending a run again the same way changes nothing
)
KILL_RUN = Operation(
    "kill_run",
    "POST",
    f"{V1}/runs/{{run_id}}/kill",
    tr.RunRef,
    tr.RunInfo,
    "modelwright.tracking.service:kill_run",
    "Mark a running or lost run killed, with its running child runs",
    "tracking",
    idempotent=True,  # a killed run stays killed
)
GET_RUN = Operation(
    "get_run",
    "GET",
    f"{V1}/runs/{{run_id}}",
    tr.RunRef,
    tr.RunDetail,
    "modelwright.tracking.service:get_run_detail",
    "A run with its params, tags, latest metrics, artifacts and environment snapshot",
    "tracking",
)
METRIC_HISTORY = Operation(
    "metric_history",
    "GET",
    f"{V1}/runs/{{run_id}}/metrics/{{key}}",
    tr.MetricHistoryRequest,
    tr.MetricHistory,
    "modelwright.tracking.service:metric_history",
    "Every logged point of one metric, by step",
    "tracking",
)
LOG_ARTIFACTS = Operation(
    "log_artifacts",
    "POST",
    f"{V1}/runs/{{run_id}}/artifacts",
    tr.LogArtifacts,
    tr.RunDetail,
    "modelwright.tracking.service:log_artifacts",
    "Record uploaded files as the run's artifacts",
    "tracking",
)
SEARCH_RUNS = Operation(
    "search_runs",
    "POST",
    f"{V1}/runs/search",
    tr.SearchRuns,
    Page[tr.RunInfo],
    "modelwright.tracking.service:search_runs",
    "Search runs by metrics, params, tags and attributes",
    "tracking",
    reads_only=True,
)
COMPARE_RUNS = Operation(
    "compare_runs",
    "POST",
    f"{V1}/runs/compare",
    tr.CompareRuns,
    tr.RunComparison,
    "modelwright.tracking.compare:compare",
    "The params and metrics of two or more runs side by side: what differs, what is the same",
    "tracking",
    reads_only=True,
)
DELETE_RUN = Operation(
    "delete_run",
    "DELETE",
    f"{V1}/runs/{{run_id}}",
    tr.DeleteRun,
    tr.Deletion,
    "modelwright.tracking.deletion:delete_run",
    "Delete a run and its child runs (restorable), or with permanent=true remove a run "
    "deleted for longer than the retention",
    "tracking",
    idempotent=True,  # deleting a deleted run again changes nothing
)
RESTORE_RUN = Operation(
    "restore_run",
    "POST",
    f"{V1}/runs/{{run_id}}/restore",
    tr.RunRef,
    tr.RunInfo,
    "modelwright.tracking.deletion:restore_run",
    "Restore a deleted run, with the child runs deleted with it",
    "tracking",
    idempotent=True,
)
DELETE_EXPERIMENT = Operation(
    "delete_experiment",
    "DELETE",
    f"{V1}/workspaces/{{workspace}}/experiments/{{name}}",
    tr.DeleteExperiment,
    tr.Deletion,
    "modelwright.tracking.deletion:delete_experiment",
    "Delete an experiment and its runs (restorable), or with permanent=true remove one "
    "deleted for longer than the retention",
    "tracking",
    idempotent=True,
)
RESTORE_EXPERIMENT = Operation(
    "restore_experiment",
    "POST",
    f"{V1}/workspaces/{{workspace}}/experiments/{{name}}/restore",
    tr.ExperimentRef,
    tr.ExperimentInfo,
    "modelwright.tracking.deletion:restore_experiment",
    "Restore a deleted experiment, with the runs deleted with it",
    "tracking",
    idempotent=True,
)
LINEAGE = Operation(
    "lineage",
    "GET",
    f"{V1}/workspaces/{{workspace}}/lineage",
    lin.LineageRequest,
    lin.Lineage,
    "modelwright.lineage.service:lineage",
    "Ancestors and descendants of a run, dataset version or artifact",
    "lineage",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
