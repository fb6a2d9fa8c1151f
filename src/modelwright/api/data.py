"""Operations of versioned datasets (the bytes travel through the object routes)."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.data import models as d
from modelwright.data.diff import DatasetDiff

V1 = "/api/v1"
_DATASETS = f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/datasets"

LIST_DATASETS = Operation(
    "list_datasets",
    "GET",
    f"{V1}/workspaces/{{workspace}}/datasets",
    d.ListDatasets,
    Page[d.DatasetInfo],
    "modelwright.data.service:list_datasets",
    "List datasets (with their latest version) in the environments the caller may read",
    "datasets",
)
GET_DATASET = Operation(
    "get_dataset",
    "GET",
    f"{_DATASETS}/{{name}}",
    d.DatasetRef,
    d.DatasetDetail,
    "modelwright.data.service:get_dataset",
    "A dataset with the history of its versions",
    "datasets",
)
GET_DATASET_VERSION = Operation(
    "get_dataset_version",
    "GET",
    f"{_DATASETS}/{{name}}/versions/{{version}}",
    d.DatasetVersionRef,
    d.DatasetVersionInfo,
    "modelwright.data.service:get_version",
    "One version ('latest', 'v3' or '3') with its schema and profile",
    "datasets",
)
DELETE_DATASET_VERSION = Operation(
    "delete_dataset_version",
    "DELETE",
    f"{_DATASETS}/{{name}}/versions/{{version}}",
    d.DatasetVersionRef,
    d.DatasetVersionInfo,
    "modelwright.data.deletion:delete_version",
    "Delete a version, unless the lineage of a model version or a monitor's baseline needs "
    "it; its bytes are freed by garbage collection",
    "datasets",
)
PREPARE_DATASET_UPLOAD = Operation(
    "prepare_dataset_upload",
    "POST",
    f"{_DATASETS}/{{name}}/uploads",
    d.PrepareUpload,
    d.UploadPlan,
    "modelwright.data.service:prepare_upload",
    "Check that a version may be written there, and list the objects the datastore lacks",
    "datasets",
)
REGISTER_DATASET = Operation(
    "register_dataset",
    "POST",
    f"{_DATASETS}/{{name}}/versions",
    d.RegisterDataset,
    d.DatasetVersionInfo,
    "modelwright.data.service:register_dataset",
    "Record a version from uploaded objects (the latest version if the content is unchanged)",
    "datasets",
    status=201,
)
LOAD_DATASET = Operation(
    "load_dataset",
    "POST",
    f"{_DATASETS}/{{name}}/versions/{{version}}/load",
    d.LoadDataset,
    d.DatasetVersionInfo,
    "modelwright.data.service:load_dataset",
    "Resolve a version to read; with a run, checked for isolation and recorded as its input",
    "datasets",
)
COPY_DATASET = Operation(
    "copy_dataset",
    "POST",
    f"{_DATASETS}/{{name}}/versions/{{version}}/copy",
    d.CopyDataset,
    d.DatasetVersionInfo,
    "modelwright.data.service:copy_dataset",
    "Copy a version into another environment (audited; how production data may leave it)",
    "datasets",
    status=201,
)
DIFF_DATASETS = Operation(
    "diff_datasets",
    "GET",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/dataset-diff",
    d.DiffDatasets,
    DatasetDiff,
    "modelwright.data.service:diff_datasets",
    "Schema and profile differences between two versions (a and b as name@version)",
    "datasets",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
