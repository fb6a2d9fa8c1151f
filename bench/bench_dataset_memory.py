"""Peak memory of registering a large CSV file, against the size of the blocks it is read in.

    .venv/bin/python bench/bench_dataset_memory.py [--size-mib 537] [--compare REV]

The tracking issue: a 537 MB CSV peaked at 1.78 GB; the target is a peak of at most twice
the largest row group plus a fixed overhead. Run on demand, never in CI.

A CSV of mixed columns (a sorted id, decimals, small integers, a category of 12 values, a
city of 2,000 values, a timestamp, a flag; fixed seeds) is generated once into a scratch
directory (``bench/.data/dataset_memory/``, git-ignored). Each measurement is a new process
of the project's python that opens a new embedded platform home (workspace ``bench``,
datastore ``lake`` in ``dev``, a local directory), then registers the file with
``register_dataset``; it reports its peak resident set size (``ru_maxrss``) before the
registration (interpreter, imports of the platform, pandas and pyarrow, the platform
opened: the fixed overhead) and after it, and the
seconds the registration took. ``--compare REV`` measures the same with the package of
another revision (checked out into a temporary git worktree) first. The fixed overhead is
also measured whole: the peak of registering a CSV of the first 1,000 rows of the same file,
in the same kind of process.

The sizes it is compared against are measured by a third process, which reads the file with
the same streaming reader and block size as the registration: the largest block (a row
group of the temporary Parquet file) and the largest column of the whole table, each as
Arrow holds it in memory (``nbytes``).

Prints a Markdown section and writes it to ``bench/.data/dataset_memory.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_report

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data" / "dataset_memory"
OUTPUT = BENCH / ".data" / "dataset_memory.md"
MiB = 1 << 20

# Run in a new process: a new home, then one registration, with the peak RSS before and after.
REGISTER = """
import json, resource, sys, time
from pathlib import Path
import modelwright
# Imported before the first figure: libraries, not data (the registration imports them).
import pandas, pyarrow.csv, pyarrow.parquet, modelwright.data.profile
home, csv = Path(sys.argv[1]), sys.argv[2]
with modelwright.connect(home) as client:
    client.create_workspace("bench")
    client.create_datastore("bench", "dev", "lake", str(home / "data" / "lake"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    info = client.register_dataset("big", csv, workspace="bench", environment="dev")
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "before_kib": before, "peak_kib": after, "seconds": seconds,
    "rows": info.profile.rows if info.profile else None,
}))
"""

# The sizes the peak is compared against, read as the registration reads the file.
SIZES = """
import json, sys
from pyarrow import csv
from modelwright.data._streamed import BLOCK_SIZE
from modelwright.data.tabular import csv_options
reader = csv.open_csv(sys.argv[1], read_options=csv.ReadOptions(block_size=BLOCK_SIZE),
                      **csv_options("csv"))
largest, columns, blocks = 0, [0] * len(reader.schema), 0
for batch in reader:
    blocks += 1
    largest = max(largest, batch.nbytes)
    for i, col in enumerate(batch.columns):
        columns[i] += col.nbytes
print(json.dumps({"block_size": BLOCK_SIZE, "blocks": blocks, "largest_block": largest,
                  "largest_column": max(columns), "table": sum(columns)}))
"""


def make_csv(path: Path, size: int) -> None:
    """A CSV of about ``size`` bytes, written in chunks (fixed seeds)."""
    import numpy as np
    import pandas as pd

    if path.exists() and path.stat().st_size >= size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    rng = np.random.default_rng(7)
    cities = [f"city-{i:04d}" for i in range(2000)]
    categories = [f"cat-{c}" for c in "abcdefghijkl"]
    start, n = 0, 200_000
    with open(tmp, "w", encoding="utf-8") as f:
        while f.tell() < size:
            ids = np.arange(start, start + n)
            frame = pd.DataFrame(
                {
                    "id": ids,
                    "amount": rng.normal(100, 30, n).round(4),
                    "quantity": rng.integers(0, 50, n),
                    "category": rng.choice(categories, n),
                    "city": rng.choice(cities, n),
                    "when": (pd.Timestamp("2024-01-01") + pd.to_timedelta(ids, unit="s")).strftime(
                        "%Y-%m-%d %H:%M:%S"
                    ),
                    "flag": rng.random(n) < 0.2,
                }
            )
            frame.to_csv(f, index=False, header=start == 0)
            start += n
    tmp.rename(path)


def run_json(code: str, args: list[str], src: Path, cache: Path | None = None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWRIGHT_")}
    env["PYTHONPATH"] = str(src)
    if cache is not None:
        env["MODELWRIGHT_CACHE_DIR"] = str(cache)  # a new hash cache: the file is hashed
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(src: Path, csv: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mw-bench-mem-", dir=DATA) as tmp:
        return run_json(REGISTER, [str(Path(tmp) / "home"), str(csv)], src, Path(tmp) / "cache")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=537, help="size of the CSV file")
    parser.add_argument("--compare", help="a git revision to measure first, e.g. HEAD~1")
    args = parser.parse_args()

    csv = DATA / f"table-{args.size_mib}MiB.csv"
    load_before = bench_report.load_average()
    print(f"generating {csv.name} ...", file=sys.stderr)
    make_csv(csv, args.size_mib * MiB)
    size = csv.stat().st_size
    rows: list[tuple[str, dict[str, Any]]] = []
    if args.compare:
        with tempfile.TemporaryDirectory(prefix="mw-bench-rev-") as tmp:
            tree = Path(tmp) / "tree"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.compare],
                check=True,
                capture_output=True,
            )
            try:
                print(f"registering with {args.compare} ...", file=sys.stderr)
                rows.append((args.compare, measure(tree / "src", csv)))
            finally:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    check=False,
                )
    print("registering with this checkout ...", file=sys.stderr)
    rows.append(("this checkout", measure(ROOT / "src", csv)))
    tiny = DATA / "table-1000rows.csv"
    with open(csv, encoding="utf-8") as f, open(tiny, "w", encoding="utf-8") as out:
        out.writelines(line for _, line in zip(range(1001), f, strict=False))
    fixed = measure(ROOT / "src", tiny)
    sizes = run_json(SIZES, [str(csv)], ROOT / "src")
    report = render(size, sizes, rows, fixed, bench_report.machine(DATA, load_before))
    print(report)
    OUTPUT.write_text(report)
    return 0


def render(
    size: int,
    sizes: dict[str, Any],
    rows: list[tuple[str, dict[str, Any]]],
    fixed: dict[str, Any],
    machine: dict[str, str],
) -> str:
    overhead = fixed["peak_kib"] / 1024
    lines = [
        "## Registering a large CSV: peak memory",
        "",
        f"A CSV file of {size / MiB:,.0f} MiB ({rows[-1][1]['rows']:,} rows, 7 columns), "
        "registered by `register_dataset` in a new process with a new embedded home. "
        f"Read in {sizes['blocks']} blocks of {sizes['block_size'] / MiB:.0f} MiB of CSV; "
        f"the largest block (a row group) holds {sizes['largest_block'] / MiB:,.1f} MiB in "
        f"Arrow, the largest column of the whole table {sizes['largest_column'] / MiB:,.1f} "
        f"MiB, the whole table {sizes['table'] / MiB:,.1f} MiB.",
        "",
        f"The fixed overhead: registering the first 1,000 rows of the file the same way peaked "
        f"at {overhead:,.0f} MiB ({fixed['before_kib'] / 1024:,.0f} MiB before the call).",
        "",
        "| package | peak RSS | before registering | peak − before | peak − fixed overhead | "
        "(peak − fixed) ÷ largest block | (peak − before) ÷ largest column | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        peak, before = r["peak_kib"] / 1024, r["before_kib"] / 1024
        added = (peak - before) * MiB
        lines.append(
            f"| {label} | {peak:,.0f} MiB | {before:,.0f} MiB | {peak - before:,.0f} MiB | "
            f"{peak - overhead:,.0f} MiB | "
            f"{(peak - overhead) * MiB / sizes['largest_block']:.1f} | "
            f"{added / sizes['largest_column']:.1f} | "
            f"{r['seconds']:.1f} |"
        )
    lines += ["", "*Machine*: " + "; ".join(f"{k} {v}" for k, v in machine.items()) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    raise SystemExit(code)
