"""Benchmarks, run on demand (``make bench``), never in CI: prints a table and rewrites
``docs/benchmarks.md`` with the figures and the machine they were measured on.

    .venv/bin/python bench/run.py [--repeats 3] [--skip-postgres] [--skip-s3] [--no-write]

Measures (a) metadata write throughput on SQLite and on PostgreSQL (127.0.0.1:5432, in a
database the benchmark creates and drops) and (b) artifact put/get throughput on a local
directory and on S3 served by a moto emulator the benchmark starts. About 90 s on two cores.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import bench_artifacts
import bench_metadata
import bench_report

from modelwright.store.artifacts import open_artifact_store

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "bench" / ".data"  # git-ignored; on the same disk as the checkout


def main() -> int:
    args = _parse()
    scratch = SCRATCH / f"run-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    started = time.monotonic()
    load_before = bench_report.load_average()
    notes: list[str] = []
    try:
        meta, versions = _metadata(args, scratch, notes)
        artifacts = _artifacts(args, scratch, notes)
        machine = bench_report.machine(scratch, load_before)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started

    print(bench_report.table(meta + artifacts))
    for note in notes:
        print(f"note: {note}")
    print(f"\n{elapsed:.0f} s on {machine['cpu']} ({machine['cores']}), Python {machine['python']}")
    if not args.no_write:
        ours = _document(args, machine, versions, meta, artifacts, notes, elapsed)
        args.output.write_text(ours + _other_sections(args.output), encoding="utf-8")
        print(f"wrote {args.output.relative_to(ROOT)}")
    return 0


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats per figure (median)")
    parser.add_argument("--ops", type=int, default=500, help="client operations per repeat")
    parser.add_argument("--rows", type=int, default=20_000, help="audit rows per bulk insert")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    return parser.parse_args()


def _metadata(
    args: argparse.Namespace, scratch: Path, notes: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    results: list[dict[str, Any]] = []
    versions: list[str] = []
    kinds = ["sqlite"] if args.skip_postgres else ["sqlite", "postgres"]
    for kind in kinds:
        try:
            version, rows = bench_metadata.measure(
                kind, scratch / f"home-{kind}", ops=args.ops, rows=args.rows, repeats=args.repeats
            )
        except Exception as exc:  # e.g. no PostgreSQL server: report, keep benchmarking
            if kind != "postgres":
                raise
            notes.append(f"PostgreSQL skipped: {type(exc).__name__}: {exc}".splitlines()[0])
            continue
        versions.append(version)
        results += rows
    return results, versions


def _artifacts(args: argparse.Namespace, scratch: Path, notes: list[str]) -> list[dict[str, Any]]:
    work = scratch / "files"
    work.mkdir()
    local = open_artifact_store(str(scratch / "artifacts"))
    results = bench_artifacts.measure("local disk", local, work, repeats=args.repeats)
    if args.skip_s3:
        return results
    try:
        from modelwright.testing import LocalS3Server

        with LocalS3Server() as s3:
            store = open_artifact_store(
                f"s3://{s3.new_bucket('bench')}/artifacts", **s3.storage_options
            )
            results += bench_artifacts.measure(
                "S3 (moto, in-memory)", store, work, repeats=args.repeats
            )
    except ImportError as exc:
        notes.append(f"S3 skipped: {exc}")
    return results


_OWN_SECTIONS = ("## Machine", "## Metadata writes", "## Artifact store")


def _other_sections(path: Path) -> str:
    """The sections other benchmark scripts wrote into the page, kept as they are."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    parts = text.split("\n## ")
    kept = [p for p in parts[1:] if not ("## " + p).startswith(_OWN_SECTIONS)]
    return "".join("\n## " + p for p in kept)


def _document(
    args: argparse.Namespace,
    machine: dict[str, str],
    versions: list[str],
    meta: list[dict[str, Any]],
    artifacts: list[dict[str, Any]],
    notes: list[str],
    elapsed: float,
) -> str:
    machine_rows = "\n".join(f"| {k} | {v} |" for k, v in machine.items())
    note_lines = "".join(f"\n> Note: {n}\n" for n in notes)
    return f"""# Benchmarks

Measured by `make bench` (`.venv/bin/python bench/run.py` rewrites the sections down to
"Artifact store"; each later section names the script that measured it). It is run
on demand, not in CI. Every figure is the median of {args.repeats} repeats (all repeats shown);
higher is better. The whole run took {elapsed:.0f} s. A load average above the core count
means other work shared the machine: read the spread of the repeats as noise.
{note_lines}
## Machine

| | |
|---|---|
{machine_rows}
| databases | {", ".join(versions) or "none"} |

## Metadata writes

{bench_report.markdown_table(meta)}

- *create_principal*: the in-process client (`Client(LocalTransport(Platform(settings)))`)
  creating principals one by one. Each call is one transaction that checks permissions,
  writes the principal and its audit event, and commits: the cost of any audited mutation.
- *bulk insert*: {args.rows} rows into `audit_events` in one transaction (SQLAlchemy
  `insert()` with a list of rows): what the storage itself can take, without the services.
- SQLite is the embedded default (WAL, `synchronous=NORMAL`) in the benchmark's scratch
  directory; PostgreSQL is the local server on 127.0.0.1:5432, in a database the benchmark
  creates and drops, with the durability settings shown under *databases* above.

## Artifact store

{bench_report.markdown_table(artifacts)}

- MB/s in decimal megabytes (10^6 bytes). Fresh random content every repeat, so no put is
  a dedup no-op. Puts include hashing; gets include verifying the hash.
- *1 MB × 50*: `put_bytes` then `get_bytes` of 50 objects. *100 MB × 3*: `put_file` then
  `get_file` of three files, streamed in 1 MiB chunks (the local put stages, fsyncs and
  renames; `get_file` writes next to the destination, fsyncs and renames).
- **S3 figures are against moto, an in-memory S3 emulator** started by the benchmark on
  loopback, with s3fs defaults (50 MiB parts). They measure the client path (s3fs, botocore,
  hashing) plus the emulator, not Amazon S3 or any real object store, whose throughput depends
  on the network and on parallel part uploads.
"""


if __name__ == "__main__":
    sys.exit(main())
