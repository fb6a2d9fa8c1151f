"""The child process of one submitted task: ``python -m modelwright.tasks._child TASK.json``.

It connects to the platform in process as the principal who submitted the job, acting in the
job's environment, does the work and writes ``result.json`` next to the task file: the
task's value, or its error as the user would have seen it running the command.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwright.batch._worker import exit_with_parent
from modelwright.client import Client
from modelwright.client._local import LocalTransport
from modelwright.core.platform import Platform
from modelwright.errors import ModelwrightError
from modelwright.objects.models import ObjectScope
from modelwright.pipelines.snapshot import unpack_project
from modelwright.settings import Settings

if TYPE_CHECKING:
    from modelwright.runner.result import PipelineResult

Task = Callable[[Client, str, str, dict[str, Any], Path], Any]


def _pipeline(client: Client, ws: str, env: str, inputs: dict[str, Any], work: Path) -> Any:
    result = _run_pipeline(client, ws, env, inputs, work)
    return {
        "run_id": result.run_id,
        "pipeline": result.pipeline,
        "nodes": {name: report.status for name, report in result.nodes.items()},
    }


def _run_pipeline(
    client: Client, ws: str, env: str, inputs: dict[str, Any], work: Path
) -> PipelineResult:
    from modelwright.runner import NodeFailed, PipelineSession

    archive = work / "project.tar.gz"
    client.transport.get_object_file(ObjectScope.artifacts(), inputs["project"], archive)
    project = unpack_project(archive, work / "project")
    session = PipelineSession(
        client, project, environment=env, workspace=ws, params=inputs["params"]
    )
    try:
        result = session.run(
            inputs["pipeline"],
            executor="sequential",
            cache=inputs["cache"],
            tags=inputs["tags"],
            to_outputs=inputs["to_outputs"],
            experiment=inputs.get("experiment"),
        )
    except NodeFailed as exc:
        raise NodeFailed(f"run {exc.result.run_id}: {exc}", exc.result) from exc
    return result


def _retrain(client: Client, ws: str, env: str, inputs: dict[str, Any], work: Path) -> Any:
    """A monitor's retraining: the pipeline, then its model output as a new version of the
    action's model, registered from the pipeline's run."""
    result = _run_pipeline(client, ws, env, inputs, work)
    example = None if inputs["example"] is None else result.load(inputs["example"])
    version = client.log_model(
        result.load(inputs["output"]),
        inputs["model"],
        run_id=result.run_id,
        input_example=example,
    )
    return {"run_id": result.run_id, "version": version.version}


def _batch(client: Client, ws: str, env: str, inputs: dict[str, Any], work: Path) -> Any:
    from modelwright.batch import run_batch

    result = run_batch(
        client,
        inputs["model"],
        inputs["input"],
        inputs["output"],
        environment=env,
        workspace=ws,
        id_column=inputs["id_column"],
        chunk_rows=inputs["chunk_rows"],
        workers=inputs["workers"],
        executor=inputs["executor"],
        error_threshold=inputs["error_threshold"],
        resume=inputs["resume"],
        work_dir=work / "batch",
        method=inputs.get("method", "predict"),
    )
    return result.model_dump(mode="json")


def _leaderboard(client: Client, ws: str, env: str, inputs: dict[str, Any], work: Path) -> Any:
    entries = client.leaderboard(
        inputs["name"],
        inputs["metric"],
        dataset=inputs["dataset"],
        label=inputs["label"],
        environment=env,
        workspace=ws,
        higher_is_better=inputs["higher_is_better"],
        set_challenger=inputs["set_challenger"],
    )
    return [e.model_dump(mode="json") for e in entries]


def _evaluate(client: Client, ws: str, env: str, inputs: dict[str, Any], work: Path) -> Any:
    """Score the candidate (and the target's champion, if any) on holdouts of the target."""
    from modelwright.errors import NotFound
    from modelwright.registry.leaderboard import resolve_metric, score

    out: dict[str, Any] = {}
    for job in inputs["scorings"]:
        frame: Any = client.load_dataset(
            job["dataset"], workspace=ws, environment=env, as_="dataframe"
        )
        metrics = [resolve_metric(name) for name in job["metrics"]]
        scores: dict[str, Any] = {}
        for role, uri in (("candidate", job["candidate"]), ("champion", job.get("champion"))):
            if uri is None:
                continue
            home = job.get("candidate_workspace", ws) if role == "candidate" else ws
            try:
                info = client.get_model_version(uri, workspace=home)
            except NotFound:
                scores[role] = None  # no champion in the target yet
                continue
            model = client.load_model(info.uri, workspace=home)
            values = score(
                model, frame, metrics, label=job["label"], dataset=job["dataset"], uri=info.uri
            )
            scores[role] = {"version": info.version, "metrics": values}
        out[job["gate"]] = scores
    return out


def _smoke(client: Client, ws: str, env: str, inputs: dict[str, Any], work: Path) -> Any:
    """Serve the candidate on a temporary port, replay rows read in the target, compare."""
    from modelwright.serving.smoke import smoke_test

    platform = client.transport.local_platform
    if platform is None:
        # The smoke test starts a model server with the platform's settings.
        raise RuntimeError("a smoke gate runs only where the platform runs in process")
    return {
        job["gate"]: smoke_test(
            client,
            settings=platform.settings,
            workspace=ws,
            environment=env,
            source=inputs["source"],
            source_workspace=inputs.get("source_workspace"),
            model=inputs["model"],
            version=inputs["version"],
            principal=inputs["principal"],
            rows=job["rows"],
            dataset=job["dataset"],
            work=work,
        )
        for job in inputs["smokes"]
    }


def _monitor(client: Client, ws: str, env: str, inputs: dict[str, Any], work: Path) -> Any:
    """The values of a monitor's window computed from its capture: drift and quality
    (``monitors.signals``), prediction and performance (``tasks._monitor_model``)."""
    from datetime import datetime

    import pandas as pd

    from modelwright.monitors.capture import decode_requests, read_capture
    from modelwright.monitors.signals import evaluate
    from modelwright.tasks._monitor_model import model_signals

    if inputs.get("dataset") is not None:
        return _series(client, ws, inputs)
    features: list[str] = inputs["features"]
    captured = pd.DataFrame(columns=["request_id", "status", "request", "response"])
    current, unreadable = pd.DataFrame(), 0
    if inputs["capture_url"] is not None:
        start = datetime.fromisoformat(inputs["window_start"])
        end = datetime.fromisoformat(inputs["window_end"])
        captured = read_capture(inputs["capture_url"], inputs["endpoint"], start, end)
        current, unreadable = decode_requests(captured["request"], features)
    loaded: list[pd.DataFrame] = []

    def baseline() -> pd.DataFrame:  # read once, and only when something is compared with it
        if not loaded:
            loaded.append(client.load_dataset(inputs["baseline"], workspace=ws, as_="dataframe"))
        return loaded[0]

    signals = [s for s in inputs["signals"] if s in ("drift", "quality")]
    rows = []
    if signals:
        empty = pd.DataFrame(columns=features)  # not read: nothing to compare it with
        rows = evaluate(
            empty if len(current) == 0 else baseline(),
            current,
            features,
            signals,
            inputs["thresholds"],
            undecodable=unreadable,
        )
    if {"prediction", "performance"} & set(inputs["signals"]):
        scope = {"workspace": ws, "environment": env}
        rows += model_signals(client, scope, inputs, captured, baseline)
    return rows


def _series(client: Client, ws: str, inputs: dict[str, Any]) -> Any:
    """The values of a series monitor's window, from the versions registered in it."""
    import pandas as pd

    from modelwright.monitors.series import evaluate_series, read_series

    def load(ref: str) -> pd.DataFrame:
        frame = client.load_dataset(ref, workspace=ws, as_="dataframe")
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"dataset {ref} did not load as a DataFrame")
        return frame

    loaded: list[pd.DataFrame] = []

    def baseline() -> pd.DataFrame:  # read once, and only when something is compared with it
        if not loaded:
            loaded.append(load(inputs["baseline"]))
        return loaded[0]

    columns = [*inputs["features"], inputs["options"]["prediction_column"]]
    current, total, read = read_series(load, inputs["versions"], columns)
    return evaluate_series(inputs, current, total, read, baseline)


TASKS: dict[str, Task] = {
    "pipeline.run": _pipeline,
    "batch.run": _batch,
    "leaderboard.run": _leaderboard,
    "promotion.evaluate": _evaluate,
    "promotion.smoke": _smoke,
    "monitor.evaluate": _monitor,
    "monitor.retrain": _retrain,
}


def main(task_file: str) -> None:
    exit_with_parent()
    task = json.loads(Path(task_file).read_text())
    work = Path(task["work_dir"])
    try:
        transport = LocalTransport(
            Platform(Settings(**task["settings"])),
            principal=task["principal"],
            acting=f"{task['workspace']}/{task['environment']}",
        )
        with Client(transport) as client:
            answer: dict[str, Any] = {
                "value": TASKS[task["kind"]](
                    client, task["workspace"], task["environment"], task["inputs"], work
                )
            }
    except ModelwrightError as exc:
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    except Exception as exc:
        traceback.print_exc()
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    partial = work / "result.json.partial"
    partial.write_text(json.dumps(answer, default=str))
    os.replace(partial, work / "result.json")


if __name__ == "__main__":
    main(sys.argv[1])
