"""Reading a dataset through the download cache: what serving only verified bytes costs.

    .venv/bin/python bench/bench_dataset_reads.py [--repeats 5] [--quick]

The data-integrity issue asked that a warm cache never serve corrupted bytes, choosing the
cheapest way that stays correct, measured on the 1 GiB file and the 10M-row table. For each
case (embedded platform, local datastore, page cache warm), the medians of:

* *first load*: ``load_dataset(..., as_="path")`` with the download cache emptied: a hard
  link to the stored object, verified (sha256) once, and stamped;
* *warm load*: the same again: the stamp (a ``stat``) decides; no byte is read;
* *hash on read*: sha256 of the cached file, what verifying on every read would cost;
* *copy*: ``shutil.copyfile`` of the object, what a copy instead of a hard link would cost
  (and a copy would still need one of the two checks, since the copy can rot as well).

Run on demand, never in CI. Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import modelwright

MiB = 1 << 20


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MiB):
            h.update(chunk)
    return h.hexdigest()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    size = (64 if args.quick else 1024) * MiB
    rows = 1_000_000 if args.quick else 10_000_000
    with tempfile.TemporaryDirectory(prefix="mw-reads-", dir=Path.cwd() / "bench") as tmp:
        root = Path(tmp)
        os.environ["MODELWRIGHT_DATASTORE_ROOTS"] = str(root)
        os.environ["MODELWRIGHT_CACHE_DIR"] = str(root / "cache")
        blob = root / "blob.bin"
        with blob.open("wb") as f:
            for _ in range(size // (64 * MiB)):
                f.write(os.urandom(64 * MiB))
        frame = pd.DataFrame(
            {
                "id": np.arange(rows, dtype=np.int64),
                "x": np.random.default_rng(0).random(rows),
                "y": np.random.default_rng(1).integers(0, 100, rows),
            }
        )
        client = modelwright.connect(root / "home")
        client.create_workspace("bench")
        client.create_datastore("bench", "dev", "lake", str(root / "lake"))
        cases = {
            f"{size // MiB:,} MiB file": client.register_dataset(
                "blob", blob, workspace="bench", environment="dev"
            ),
            f"{rows:,}-row table (Parquet)": client.register_dataset(
                "table", frame, workspace="bench", environment="dev"
            ),
        }
        lines = [
            "## Dataset reads through the download cache",
            "",
            f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}; embedded platform, local datastore on the same disk, "
            f"page cache warm; medians of {args.repeats} repeats (seconds).",
            "",
            "| data | first load (link + verify) | warm load (stat) | hash on read | copy |",
            "|---|--:|--:|--:|--:|",
        ]
        for label, version in cases.items():
            first, warm, hashed, copied = [], [], [], []
            ref = f"{version.name}@v{version.version}"
            for _ in range(args.repeats):
                shutil.rmtree(root / "cache", ignore_errors=True)
                t = time.perf_counter()
                path = client.load_dataset(ref, workspace="bench", environment="dev", as_="path")
                first.append(time.perf_counter() - t)
                t = time.perf_counter()
                again = client.load_dataset(ref, workspace="bench", environment="dev", as_="path")
                warm.append(time.perf_counter() - t)
                assert isinstance(path, Path)
                assert again == path
                t = time.perf_counter()
                assert _sha256(path) == version.digest
                hashed.append(time.perf_counter() - t)
                t = time.perf_counter()
                shutil.copyfile(path, root / "copy.bin")
                copied.append(time.perf_counter() - t)
                (root / "copy.bin").unlink()
                print(f"{label}: {first[-1]:.3f} {warm[-1]:.4f} {hashed[-1]:.3f}", file=sys.stderr)
            lines.append(
                f"| {label} | {_median(first):.3f} | {_median(warm):.4f} | "
                f"{_median(hashed):.3f} | {_median(copied):.3f} |"
            )
        client.close()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
