"""The machine a benchmark ran on, and the results as a terminal table and as Markdown."""

from __future__ import annotations

import os
import platform
import textwrap
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("sqlalchemy", "psycopg", "fsspec", "s3fs", "moto")


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews every figure."""
    return Path("/proc/loadavg").read_text().split()[0]


def machine(scratch: Path, load_before: str) -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpuinfo("model name") or platform.processor() or "unknown",
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable",
        "ram": f"{_mem_total_gib():.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "disk": f"{_filesystem_of(scratch)} (filesystem of the scratch directory)",
        "load": f"{load_before} before, {load_average()} after (1-minute load average)",
        "packages": ", ".join(f"{p} {_version(p)}" for p in PACKAGES),
    }


def _cpuinfo(field: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == field:
                return value.strip()
    except OSError:
        pass
    return None


def _mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20  # the figure is in KiB
    return float("nan")


def _filesystem_of(path: Path) -> str:
    """The type of the mount holding ``path`` (longest matching mount point wins)."""
    best, kind = "", "unknown"
    target = str(path.resolve())
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        mount, fstype = fields[1], fields[2]
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > len(best):
            best, kind = mount, fstype
    return kind


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _all(values: list[float]) -> str:
    return " / ".join(_fmt(v) for v in values)


def table(results: list[dict[str, Any]]) -> str:
    rows = [("backend", "workload", "median", "unit", "each repeat")]
    rows += [
        (r["backend"], r["workload"], _fmt(r["median"]), r["unit"], _all(r["all"])) for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | workload | median | unit | each repeat |",
        "|---|---|--:|---|---|",
    ]
    lines += [
        f"| {r['backend']} | {r['workload']} | {_fmt(r['median'])} | {r['unit']} | {_all(r['all'])} |"
        for r in results
    ]
    return "\n".join(lines)


def wrap(text: str, bullet: bool = True) -> str:
    """A paragraph of a report at the page's width; a bullet unless ``bullet`` is False."""
    return textwrap.fill(
        text,
        width=92,
        initial_indent="- " if bullet else "",
        subsequent_indent="  " if bullet else "",
        break_on_hyphens=False,
        break_long_words=False,
    )


def replace_section(path: Path, heading: str, section: str) -> None:
    """Replace the section of ``path`` under ``heading`` (up to the next ``## ``), or append
    it at the end; the rest of the page is kept byte for byte."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = text.find("\n" + heading + "\n")
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
        return
    start += 1
    end = text.find("\n## ", start + len(heading))
    rest = text[end + 1 :] if end >= 0 else ""
    path.write_text(text[:start] + section + ("\n" + rest if rest else ""), encoding="utf-8")
