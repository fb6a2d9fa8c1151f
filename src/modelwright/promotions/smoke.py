"""The smoke gate's verdict from what its child process measured (``serving.smoke``)."""

from __future__ import annotations

from typing import Any

from modelwright.core.context import utcnow
from modelwright.promotions.models import GateResult
from modelwright.workspaces.policy import SmokeGate

__all__ = ["judge_smoke"]


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value >= 1 else f"{value:.3g} ms"


def judge_smoke(gate: SmokeGate, evidence: dict[str, Any]) -> GateResult:
    """Passed when every row had a 2xx answer, the p99 latency is within the bound and every
    answer equals the offline prediction on the same row."""
    now = utcnow()
    recorded = {**evidence, "p99_bound_ms": gate.p99_ms, "rows_asked": gate.rows}
    if "error" in evidence:
        return GateResult(
            kind="smoke", status="failed", summary=evidence["error"], evidence=recorded, at=now
        )
    rows: int = evidence["rows"]
    statuses: dict[str, int] = evidence["statuses"]
    p99: float | None = evidence["p99_ms"]
    problems: list[str] = []
    other = {code: n for code, n in statuses.items() if not code.startswith("2")}
    if other:
        counts = ", ".join(f"{n} × {code}" for code, n in other.items())
        first = evidence["failure_examples"][0]
        problems.append(
            f"{sum(other.values())} of {rows} requests had no 2xx answer ({counts}; "
            f"row {first['row']}: {str(first['message'])[:200]})"
        )
    if p99 is None:
        if not other:
            problems.append("no request was answered")
    elif p99 > gate.p99_ms:
        problems.append(f"p99 {_ms(p99)} > {_ms(gate.p99_ms)}")
    if evidence["mismatches"]:
        first = evidence["mismatch_examples"][0]
        problems.append(
            f"{evidence['mismatches']} answer(s) differ from the offline predictions (row "
            f"{first['row']}: served {first['served']!r}, offline {first['offline']!r})"[:400]
        )
    if problems or p99 is None:
        summary = f"{rows} rows from {evidence['source']}: " + "; ".join(problems)
    else:
        summary = (
            f"{rows} rows: all 2xx, p99 {_ms(p99)} ≤ {_ms(gate.p99_ms)}, "
            "answers equal offline predictions"
        )
    return GateResult(
        kind="smoke",
        status="failed" if problems else "passed",
        summary=summary,
        evidence=recorded,
        at=now,
    )
