"""The gates that need nobody: metric thresholds and the policy check, with their evidence."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from modelwright.core.context import Context, utcnow
from modelwright.promotions.models import GateResult
from modelwright.registry.flavors import get_flavor, requires_trust
from modelwright.registry.ranking import lower_is_better
from modelwright.store import schema
from modelwright.workspaces.policy import (
    ChampionGate,
    EvaluationGate,
    MetricGate,
    PolicyGate,
    parse_threshold,
)

__all__ = ["check_metric", "check_policy", "judge"]

# A pinned requirement names one version: "scikit-learn==1.7.2" (an environment marker allowed).
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s,;]+\s*(;.*)?$")


def check_metric(ctx: Context, version: schema.ModelVersion, gate: MetricGate) -> GateResult:
    now = utcnow()
    if version.run_id is None:
        return GateResult(
            kind="metric",
            status="failed",
            summary="the version was registered without a run, so it has no logged metrics",
            at=now,
        )
    thresholds = [parse_threshold(t) for t in gate.require]
    logged = {
        lm.key: lm
        for lm in ctx.session.scalars(
            select(schema.LatestMetric).where(
                schema.LatestMetric.run_id == version.run_id,
                schema.LatestMetric.key.in_([t.metric for t in thresholds]),
            )
        )
    }
    checks: list[dict[str, Any]] = []
    for t in thresholds:
        lm = logged.get(t.metric)
        value = None if lm is None else (float("nan") if lm.is_nan else lm.value)
        checks.append(
            {
                "require": str(t),
                "value": value,
                "passed": value is not None and t.holds(value),
            }
        )
    missing = [c["require"] for c in checks if c["value"] is None]
    failing = [c for c in checks if c["value"] is not None and not c["passed"]]
    if missing:
        summary = f"run {version.run_id} logged no value for: {', '.join(missing)}"
    elif failing:
        summary = ", ".join(f"{c['require']} does not hold ({c['value']:g})" for c in failing)
    else:
        summary = ", ".join(f"{c['require']} ({c['value']:g})" for c in checks)
    return GateResult(
        kind="metric",
        status="failed" if missing or failing else "passed",
        summary=summary,
        evidence={"run_id": version.run_id, "checks": checks},
        at=now,
    )


def check_policy(ctx: Context, version: schema.ModelVersion, gate: PolicyGate) -> GateResult:
    problems: list[str] = []
    evidence: dict[str, object] = {"flavor": version.flavor}
    if gate.signature:
        has = bool(version.signature and version.signature.get("inputs"))
        evidence["signature"] = has
        if not has:
            problems.append("no signature is recorded (log the model with an input example)")
    if not gate.allow_pickle:
        meta = version.metadata_.get("flavor_meta") or {}
        pickled = requires_trust(get_flavor(version.flavor), meta)
        evidence["runs_code_on_load"] = pickled
        if pickled:
            problems.append(
                f"the {version.flavor} artifact runs code when loaded (pickle or untrusted "
                "types); allow_pickle is off"
            )
    if gate.pinned_requirements:
        loose = [r for r in version.requirements if not _PINNED.match(r.strip())]
        evidence["requirements"] = list(version.requirements)
        if loose:
            problems.append(f"requirements not pinned to one version: {', '.join(loose)}")
    if gate.training_data:
        # A pipeline's run reads its data through its nodes' runs: theirs count too.
        runs = [] if version.run_id is None else [version.run_id]
        if runs:
            runs += ctx.session.scalars(
                select(schema.Run.id).where(schema.Run.parent_id == version.run_id)
            ).all()
        inputs = ctx.session.scalars(
            select(schema.LineageEdge.source_id).where(
                schema.LineageEdge.target_kind == "run",
                schema.LineageEdge.target_id.in_(runs),
                schema.LineageEdge.source_kind == "dataset_version",
                schema.LineageEdge.relation == "input",
            )
        ).all()
        evidence["training_datasets"] = len(inputs)
        if not inputs:
            problems.append("its run recorded no input dataset (lineage of the training data)")
    if gate.description and not version.description.strip():
        problems.append("the version has no description")
    return GateResult(
        kind="policy",
        status="failed" if problems else "passed",
        summary="; ".join(problems) or "signature, serialisation, requirements and lineage hold",
        evidence=evidence,
        at=utcnow(),
    )


def judge(gate: EvaluationGate | ChampionGate, scores: dict[str, Any]) -> GateResult:
    """The gate's result from the scores the child process computed on the holdout."""
    now = utcnow()
    candidate = scores["candidate"]["metrics"]
    evidence: dict[str, Any] = {"dataset": gate.dataset, **scores}
    if isinstance(gate, EvaluationGate):
        checks = [(t, candidate[t.metric]) for t in map(parse_threshold, gate.require)]
        failing = [f"{t} does not hold ({v:g})" for t, v in checks if not t.holds(v)]
        summary = ", ".join(failing) or ", ".join(f"{t} ({v:g})" for t, v in checks)
        return GateResult(
            kind="evaluation",
            status="failed" if failing else "passed",
            summary=f"on {gate.dataset}: {summary}",
            evidence=evidence,
            at=now,
        )
    ours = candidate[gate.metric]
    champion = scores.get("champion")
    if champion is None:
        return GateResult(
            kind="champion",
            status="passed",
            summary=f"no @{gate.alias} in the target yet: nothing to beat ({gate.metric} {ours:g})",
            evidence=evidence,
            at=now,
        )
    theirs = champion["metrics"][gate.metric]
    higher = (
        not lower_is_better(gate.metric) if gate.higher_is_better is None else gate.higher_is_better
    )
    worse_by = (theirs - ours) if higher else (ours - theirs)
    ok = worse_by <= gate.margin
    return GateResult(
        kind="champion",
        status="passed" if ok else "failed",
        summary=(
            f"{gate.metric} {ours:g} against @{gate.alias} (version {champion['version']}) "
            f"{theirs:g} on {gate.dataset}"
            + ("" if ok else f": worse by {worse_by:g}, more than the margin {gate.margin:g}")
        ),
        evidence=evidence,
        at=now,
    )
