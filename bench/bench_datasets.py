"""Dataset versioning: registering a 1 GiB file and a directory of 20,000 small files,
modelwright against ``dvc add`` on the same data, and against reading the bytes (``cat``).

    .venv/bin/python bench/bench_datasets.py [--quick] [--repeats 3] [--remove-data]

The tracking issue's targets: registering is at least 5× faster than ``dvc add``, and within
2× of ``cat`` of the same bytes to /dev/null on the same machine. Run on demand, never in CI;
expected to take about 5 minutes on an idle two-core machine, more under load (after the first
repeat, stderr tells how long the rest should take), plus about a minute once to install DVC.
``--quick`` (64 MiB, 2,000 files) checks that everything runs; its figures are not the
benchmark's.

The data is made once into ``bench/.data/datasets/`` (git-ignored) and reused: a file of
``os.urandom`` bytes and a flat directory of small files of 1–8 KiB (sizes and bytes from
fixed seeds). Every tool reads it warm from the page cache (caches cannot be dropped here, so
a warm-up read comes first), and ``sync`` runs before each timed step so that no tool pays
for another's pending writes. For each repeat and each case, interleaved:

* ``cat``: ``cat FILE > /dev/null``; ``find DIR -type f -exec cat {} + > /dev/null``;
* DVC (pinned in ``bench/requirements-dvc.txt``, installed into ``bench/.venvs/dvc`` on first
  use): a new ``dvc init --no-scm`` repository (analytics off, its site cache inside it) with
  a copy of the data, then ``dvc add PATH`` timed as a subprocess; then ``dvc add PATH``
  again on the unchanged data;
* modelwright: a new embedded platform home with workspace ``bench`` and datastore ``lake``
  in its ``dev`` environment (a local directory on the same disk), then a new process of the
  project's python running ``modelwright.connect(home).register_dataset(name, path,
  workspace="bench", environment="dev")``, timed as a whole (start-up and imports included,
  as for a user of the CLI); then the same again on the unchanged data (hash cache hit).

Prints a Markdown section "## Dataset versioning" and writes it to ``bench/.data/datasets.md``;
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import _venvs
import bench_report

BENCH = Path(__file__).resolve().parent
DATA = BENCH / ".data" / "datasets"  # git-ignored; on the same disk as the checkout
OUTPUT = BENCH / ".data" / "datasets.md"
MiB = 1 << 20
GiB = 1 << 30
WORKSPACE, ENVIRONMENT, DATASTORE = "bench", "dev", "lake"

# No telemetry from DVC (it checks for updates only in `dvc version`): the only network of this
# benchmark is pip's, once, to make DVC's venv.
DVC_ENV = {"DVC_NO_ANALYTICS": "1", "PYTHONWARNINGS": "ignore"}

# Run by the project's python in a new process, so that each registration is cold.
REGISTER = """
import json, sys, time
started = time.perf_counter()
import modelwright
client = modelwright.connect(sys.argv[1])
ready = time.perf_counter()
info = client.register_dataset(
    sys.argv[2], sys.argv[3], workspace=sys.argv[4], environment=sys.argv[5]
)
done = time.perf_counter()
client.close()
print(json.dumps({
    "startup": ready - started, "register": done - ready, "created": info.created,
    "version": info.version, "size": info.size, "files": info.files, "format": info.format,
}))
"""


@dataclass(frozen=True)
class Sizes:
    file_bytes: int
    dir_files: int
    min_file: int = 1024
    max_file: int = 8192

    @property
    def tag(self) -> str:
        return f"{self.file_bytes // MiB}MiB-{self.dir_files}files"


FULL = Sizes(file_bytes=GiB, dir_files=20_000)
QUICK = Sizes(file_bytes=64 * MiB, dir_files=2_000)


@dataclass
class Case:
    key: str  # "file" or "dir"
    label: str
    path: Path
    size: int
    files: int
    times: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, list[float]] = field(default_factory=dict)

    def add(self, what: str, seconds: float, into: dict[str, list[float]] | None = None) -> None:
        (self.times if into is None else into).setdefault(what, []).append(seconds)

    def median(self, what: str) -> float:
        return statistics.median(self.times[what])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- data ---------------------------------------------------------------------------------------
def make_data(sizes: Sizes) -> tuple[Path, Path]:
    """The file and the directory for ``sizes``, made once and reused while complete."""
    root = DATA / sizes.tag
    big, small = root / "big.bin", root / "small"
    marker = root / "complete.json"
    spec = {"file_bytes": sizes.file_bytes, "dir_files": sizes.dir_files, "format": 1}
    if marker.exists() and json.loads(marker.read_text()) == spec and big.exists():
        log(f"reusing the data in {root.relative_to(BENCH.parent)}")
        return big, small
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log(f"writing {sizes.file_bytes / MiB:,.0f} MiB of os.urandom to {big.name}")
    with big.open("wb") as out:
        left = sizes.file_bytes
        while left:
            chunk = min(left, 8 * MiB)
            out.write(os.urandom(chunk))
            left -= chunk
    log(f"writing {sizes.dir_files:,} files of 1-8 KiB to {small.name}/")
    small.mkdir()
    width = len(str(sizes.dir_files - 1))
    pick = random.Random(20_000)
    for i in range(sizes.dir_files):
        size = pick.randint(sizes.min_file, sizes.max_file)
        (small / f"part-{i:0{width}d}.bin").write_bytes(random.Random(i).randbytes(size))
    os.sync()
    marker.write_text(json.dumps(spec))
    return big, small


def tree_size(path: Path) -> tuple[int, int]:
    if path.is_file():
        return path.stat().st_size, 1
    sizes = [p.stat().st_size for p in path.rglob("*") if p.is_file()]
    return sum(sizes), len(sizes)


# -- hashing floor ------------------------------------------------------------------------------
def hash_rate(name: str, total: int) -> float:
    """Bytes/s of hashlib ``name`` over ``total`` bytes in memory (16 MiB updates, one core)."""
    block = memoryview(os.urandom(16 * MiB))
    rounds = max(1, total // len(block))
    h = hashlib.new(name)
    h.update(block[: MiB // 4])  # warm-up
    h = hashlib.new(name)
    started = time.perf_counter()
    for _ in range(rounds):
        h.update(block)
    h.hexdigest()
    return rounds * len(block) / (time.perf_counter() - started)


# -- the three tools ----------------------------------------------------------------------------
def timed(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-4000:]!r}")
    return seconds


def cat_command(path: Path) -> list[str]:
    if path.is_file():
        return ["cat", str(path)]
    return ["find", str(path), "-type", "f", "-exec", "cat", "{}", "+"]


def copy_command(path: Path, dest: Path) -> list[str]:
    """A durable copy and nothing else: ``cp`` to the same disk, then ``sync -f`` (syncfs) of
    the copy's filesystem. No hashing, no metadata: the floor of any registration that keeps
    its own copy of the bytes and makes it durable."""
    return [
        "sh",
        "-c",
        'cp -r --reflink=never "$1" "$2" && sync -f "$2"',
        "copy",
        str(path),
        str(dest),
    ]


def run_dvc(dvc: Path, case: Case, trial: Path) -> tuple[float, float]:
    """Seconds of ``dvc add`` in a new repository, then of ``dvc add`` again (unchanged)."""
    trial.mkdir(parents=True)
    env = {**os.environ, **DVC_ENV, "DVC_SITE_CACHE_DIR": str(trial / "site-cache")}
    repo = trial / "repo"
    repo.mkdir()
    # DVC checks for updates only in `dvc version`: analytics is all there is to turn off.
    for args in (["init", "--no-scm", "--quiet"], ["config", "core.analytics", "false"]):
        subprocess.run([str(dvc), *args], cwd=repo, env=env, check=True)
    subprocess.run(["cp", "-r", "--reflink=auto", str(case.path), str(repo)], check=True)
    target = case.path.name
    os.sync()
    cold = timed([str(dvc), "add", "--quiet", target], cwd=repo, env=env)
    _check_dvc(repo / f"{target}.dvc", case)
    os.sync()
    warm = timed([str(dvc), "add", "--quiet", target], cwd=repo, env=env)
    return cold, warm


def _check_dvc(dvcfile: Path, case: Case) -> None:
    text = dvcfile.read_text()
    if f"size: {case.size}" not in text or (case.files > 1 and f"nfiles: {case.files}" not in text):
        raise AssertionError(f"dvc add recorded something else than {case.label}:\n{text}")


def setup_home(home: Path, lake: Path) -> None:
    """A new embedded platform with the workspace and its dev datastore (untimed)."""
    import modelwright

    with modelwright.connect(home) as client:
        client.create_workspace(WORKSPACE)
        client.create_datastore(WORKSPACE, ENVIRONMENT, DATASTORE, str(lake))


def register(home: Path, case: Case) -> tuple[float, dict[str, Any]]:
    """Seconds of a new process registering ``case``, and what it reported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWRIGHT_")}
    env["MODELWRIGHT_CACHE_DIR"] = str(home / "cache")  # the home's: new with the home
    cmd = [sys.executable, "-c", REGISTER, str(home), case.key, str(case.path)]
    cmd += [WORKSPACE, ENVIRONMENT]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"register_dataset failed ({done.returncode}):\n{done.stderr[-4000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if (report["size"], report["files"]) != (case.size, case.files):
        raise AssertionError(f"modelwright registered something else than {case.label}: {report}")
    return seconds, report


def run_modelwright(case: Case, trial: Path) -> tuple[float, float]:
    """Seconds of the first registration in a new home, then of registering again."""
    home, lake = trial / "home", trial / "lake"
    setup_home(home, lake)
    os.sync()
    cold, first = register(home, case)
    if not first["created"] or first["version"] != 1:
        raise AssertionError(f"the first registration did not create v1: {first}")
    case.add("mw_startup", first["startup"], case.extra)
    case.add("mw_call", first["register"], case.extra)
    os.sync()
    warm, again = register(home, case)
    if again["created"] or again["version"] != 1:
        raise AssertionError(f"registering unchanged data made a new version: {again}")
    case.add("mw_warm_call", again["register"], case.extra)
    return cold, warm


# -- report -------------------------------------------------------------------------------------
def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def fmt_x(ratio: float) -> str:
    return f"{ratio:.1f}×" if ratio < 100 else f"{ratio:,.0f}×"


def rate(case: Case, seconds: float) -> str:
    return f"{case.size / MiB / seconds:,.0f} MiB/s" + (
        f", {case.files / seconds:,.0f} files/s" if case.files > 1 else ""
    )


ROWS = (
    ("cat", "cat", "{cat}"),
    ("cp + sync", "copy", "{copy}"),
    ("DVC", "dvc_cold", "`dvc add` in a new repository"),
    ("DVC", "dvc_warm", "`dvc add` again, data unchanged"),
    ("modelwright", "mw_cold", "`register_dataset` in a new process, new home"),
    ("modelwright", "mw_warm", "`register_dataset` again, unchanged (hash cache hit)"),
)


def report(
    cases: list[Case],
    sizes: Sizes,
    *,
    quick: bool,
    repeats: int,
    machine: dict[str, str],
    versions: dict[str, str],
    hashes: dict[str, float],
    load: tuple[str, str],
    elapsed: float,
) -> str:
    out: list[str] = ["## Dataset versioning", ""]
    if quick:
        out += [
            f"**Quick run (`--quick`: {sizes.file_bytes // MiB} MiB and {sizes.dir_files:,}"
            " files), a smoke test only: these are not the benchmark's figures.**",
            "",
        ]
    out += [
        "The tracking issue's dataset-versioning benchmark: registering a "
        f"{_bytes(sizes.file_bytes)} file and a directory of {sizes.dir_files:,} small files, "
        "against `dvc add` on the same data and against reading the bytes with `cat`. "
        f"Measured by `.venv/bin/python bench/bench_datasets.py{' --quick' if quick else ''}` "
        f"(on demand, never in CI; {elapsed:.0f} s for this run). Every figure is the median of "
        f"{repeats} repeats (all shown), wall-clock seconds of the whole command; lower is "
        "better.",
        "",
        "| | |",
        "|---|---|",
        f"| date | {machine['date']} |",
        f"| cpu | {machine['cpu']} |",
        f"| cores | {machine['cores']} |",
        f"| ram | {machine['ram']} |",
        f"| os | {machine['os']} |",
        f"| disk | {machine['disk']} |",
        f"| python | {platform.python_version()} (both sides) |",
        "| versions | "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + " (DVC pinned in `bench/requirements-dvc.txt`) |",
        f"| load average (1/5/15 min) | at start {load[0]}, at end {load[1]} |",
        "| hashlib, in memory, one core | "
        + ", ".join(f"{k} {v / MiB:,.0f} MiB/s" for k, v in hashes.items())
        + " (1 GiB in 16 MiB updates) |",
        "| page cache | warm for every tool: the data was read once before timing, and caches "
        "cannot be dropped here |",
        "",
        "| data | tool | what | median (s) | throughput | each repeat (s) |",
        "|---|---|---|--:|---|---|",
    ]
    for case in cases:
        for tool, key, what in ROWS:
            if key not in case.times:
                continue
            median = case.median(key)
            each = " / ".join(fmt_s(t) for t in case.times[key])
            out.append(
                f"| {case.label} | {tool} | "
                f"{what.format(cat=_shell_cat(case), copy=_shell_copy(case))} "
                f"| {fmt_s(median)} | {rate(case, median)} "
                f"| {each} |"
            )
    out += [
        "",
        "Ratios of medians: DVC ÷ modelwright is how many times faster modelwright is; "
        "modelwright ÷ cat is how many times the time of reading the bytes it takes. *First*: "
        "the first registration (`dvc add`); *again*: the same, data unchanged.",
        "",
        "| data | DVC ÷ modelwright, first | modelwright ÷ cat, first | DVC ÷ modelwright, again "
        "| modelwright ÷ cat, again |",
        "|---|--:|--:|--:|--:|",
    ]
    verdicts: list[str] = []
    for case in cases:
        if "mw_cold" not in case.times:
            continue
        mw, mw_warm, cat = case.median("mw_cold"), case.median("mw_warm"), case.median("cat")
        dvc = case.times.get("dvc_cold")
        vs_dvc = statistics.median(dvc) / mw if dvc else float("nan")
        vs_dvc_warm = case.median("dvc_warm") / mw_warm if dvc else float("nan")
        out.append(
            f"| {case.label} | {fmt_x(vs_dvc)} | {fmt_x(mw / cat)} | {fmt_x(vs_dvc_warm)} "
            f"| {fmt_x(mw_warm / cat)} |"
        )
        if dvc:
            verdicts.append(
                f"- {case.label}: `dvc add` took {fmt_x(vs_dvc)} the time of modelwright's "
                "registration (target: modelwright at least 5× faster): "
                + ("met." if vs_dvc >= 5 else "**missed**.")
            )
        verdicts.append(
            f"- {case.label}: modelwright's registration took {fmt_x(mw / cat)} the time of "
            "`cat` (target: at most 2×): " + ("met." if mw / cat <= 2 else "**missed**.")
        )
        if "copy" in case.times and dvc:
            copy = case.median("copy")
            verdicts.append(
                f"- {case.label}, the floor of a durable copy: `cp` + `sync` alone took "
                f"{fmt_s(copy)} s ({fmt_x(copy / cat)} the time of `cat`; DVC's first "
                f"`dvc add` is {fmt_x(statistics.median(dvc) / copy)} of it). 5× faster than "
                f"DVC needs the whole registration under {fmt_s(statistics.median(dvc) / 5)} s"
                f" and 2× `cat` under {fmt_s(2 * cat)} s, start-up, hashing and records "
                "included."
            )
    out += ["", "Targets of the issue, on the first registration (a new home, a cold process):", ""]
    out += verdicts
    out += ["", *_notes(cases, hashes)]
    busy = _busy(load)
    if busy:
        out.append(busy)
    return "\n".join(out) + "\n"


def _busy(load: tuple[str, str]) -> str:
    """A warning when other work shared the CPUs during the run (load above the core count)."""
    cores = os.cpu_count() or 1
    peak = max(float(text.split(" / ")[i]) for text in load for i in (0, 1))
    if peak <= cores:
        return ""
    return (
        f"- **The machine was busy**: its load average reached {peak:.2f} on {cores} cores "
        "during this run (other work ran at the same time), so every tool waited for the CPU "
        "at times; the repeats show how much the figures moved."
    )


def _notes(cases: list[Case], hashes: dict[str, float]) -> list[str]:
    sha = hashes["sha256"]
    notes = [
        "How each figure is taken:",
        "",
        "- *cat*: `cat FILE > /dev/null`, and `find DIR -type f -exec cat {} + > /dev/null`: "
        "the bytes read from the page cache and thrown away, no hashing, no writing.",
        "- *DVC*: `dvc init --no-scm` (no Git: less work for DVC than in a Git repository), "
        "`core.analytics false`, `DVC_NO_ANALYTICS=1`, its site cache (state and index) inside "
        "the new repository; the data copied in (untimed), then `dvc add PATH`: md5 of every "
        "file and a copy of its bytes into `.dvc/cache` (the workspace files stay as they "
        "are). DVC does not fsync.",
        "- *modelwright*: the embedded platform (SQLite in a new home) with a local-directory "
        "datastore on the same disk; a new process of the project's python runs "
        "`modelwright.connect(home).register_dataset(name, path, workspace='bench', "
        "environment='dev')`: it stats the files, copies them into the datastore hashing "
        "(sha256) on the way (small files of a directory: appended to a few pack objects, each "
        "file keeping its own sha256 in the manifest), makes the objects durable before the version is recorded (`fdatasync` of "
        "each new object, then of the directories renamed into), stores the manifest of a "
        "directory and records the version. *Again*: a new process registers the unchanged path into the same home; "
        "digests come from the hash cache (path, size, mtime, inode), nothing is copied, and "
        "the existing version is returned (`created` is False, checked).",
        "- Every timed command is a new process, started and ended inside the timing "
        "(interpreter start-up and imports included, as for a user of the command line). "
        "`sync` runs before each, untimed. Repeats are interleaved (cat, DVC, modelwright, "
        "then the next repeat), so a change of load falls on every tool alike. "
        "modelwright's package is byte-compiled once before the timing, as pip does for "
        "DVC's (and for modelwright's own wheel): a checkout would compile it in every process.",
    ]
    for case in cases:
        if "mw_startup" not in case.extra:
            continue
        startup = statistics.median(case.extra["mw_startup"])
        call = statistics.median(case.extra["mw_call"])
        warm_call = statistics.median(case.extra["mw_warm_call"])
        cat = case.median("cat")
        notes.append(
            f"- {case.label}, modelwright inside its process: {startup:.2f} s to import and "
            f"open the platform, then {call:.2f} s in `register_dataset` (alone, "
            f"{fmt_x(call / cat)} the time of `cat`; {warm_call:.2f} s again, unchanged); the "
            "rest of the wall time is the interpreter's start and exit."
        )
    big = next((c for c in cases if c.key == "file"), None)
    if big is not None and "cat" in big.times:
        floor = big.size / sha
        cat_rate = big.size / big.median("cat")
        notes.append(
            f"- The floor: sha256 runs at {sha / MiB:,.0f} MiB/s on one core here, so hashing "
            f"the {_bytes(big.size)} file alone takes {floor:.2f} s (one file is hashed on one "
            f"thread), while `cat` reads it at {cat_rate / MiB:,.0f} MiB/s. Within 2× of `cat` "
            f"needs the whole registration, copy and flush included, under "
            f"{2 * big.median('cat'):.2f} s: "
            + (
                "the hash alone is above that."
                if floor > 2 * big.median("cat")
                else "the hash alone fits, with room to spare."
                if floor < big.median("cat")
                else "the hash alone takes most of it."
            )
            + " DVC's md5 runs at "
            f"{hashes['md5'] / MiB:,.0f} MiB/s here."
        )
    return notes


def _shell_cat(case: Case) -> str:
    if case.key == "file":
        return f"`cat {case.path.name} > /dev/null`"
    return f"`find {case.path.name} -type f -exec cat {{}} + > /dev/null`"


def _shell_copy(case: Case) -> str:
    return f"`cp -r {case.path.name} COPY && sync -f COPY` (same disk)"


def _bytes(n: int) -> str:
    return f"{n / GiB:g} GiB" if n >= GiB else f"{n / MiB:g} MiB"


# -- main ---------------------------------------------------------------------------------------
def main() -> int:
    args = _parse()
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    load_start = _loads()
    for var in [k for k in os.environ if k.startswith("MODELWRIGHT_")]:
        del os.environ[var]  # this benchmark's homes only, never the user's platform

    dvc_python = _venvs.ensure("dvc", log=log)
    dvc = dvc_python.parent / "dvc"
    versions = {
        "modelwright": metadata.version("modelwright"),
        "dvc": _venvs.installed(dvc_python, "dvc") or "?",
        "coreutils": _coreutils(),
    }
    big, small = make_data(sizes)
    cases = []
    for key, label, path in (
        ("file", f"{_bytes(sizes.file_bytes)} file", big),
        ("dir", f"{sizes.dir_files:,} files", small),
    ):
        size, files = tree_size(path)
        cases.append(Case(key, label, path, size, files))

    # DVC's site-packages were byte-compiled by pip; a wheel install of modelwright would be
    # too. A checkout is not (and PYTHONDONTWRITEBYTECODE may keep it so): compile it once
    # here rather than in every timed process, as bench_registry.py does.
    import compileall

    import modelwright

    compileall.compile_dir(Path(modelwright.__file__).parent, quiet=1)

    log("hashlib throughput (1 GiB in memory)")
    hashes = {name: hash_rate(name, GiB) for name in ("sha256", "md5")}
    log("warm-up read of the data")
    for case in cases:
        timed(cat_command(case.path))

    scratch = DATA / f"scratch-{uuid.uuid4().hex[:8]}"
    try:
        for r in range(args.repeats):
            began = time.monotonic()
            for case in cases:
                _one_repeat(case, r, dvc, scratch)
            took = time.monotonic() - began
            log(
                f"repeat {r + 1} took {took:.0f} s; "
                f"about {took * (args.repeats - r - 1):.0f} s to go"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.remove_data:
        shutil.rmtree(DATA / sizes.tag, ignore_errors=True)

    machine = bench_report.machine(DATA, "")
    text = report(
        cases,
        sizes,
        quick=args.quick,
        repeats=args.repeats,
        machine=machine,
        versions=versions,
        hashes=hashes,
        load=(load_start, _loads()),
        elapsed=time.monotonic() - started,
    )
    sys.stdout.write(text)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    log(f"wrote {OUTPUT.relative_to(BENCH.parent)}")
    return 0


def _one_repeat(case: Case, r: int, dvc: Path, scratch: Path) -> None:
    steps: list[tuple[str, Callable[[], None]]] = [
        ("cat", lambda: case.add("cat", timed(cat_command(case.path)))),
        ("cp + sync", lambda: _copy(case, scratch / f"copy-{case.key}")),
        ("dvc add", lambda: _pair(case, "dvc", run_dvc(dvc, case, scratch / f"dvc-{case.key}"))),
        (
            "modelwright",
            lambda: _pair(case, "mw", run_modelwright(case, scratch / f"mw-{case.key}")),
        ),
    ]
    for name, step in steps:
        log(f"repeat {r + 1}, {case.label}: {name}")
        os.sync()
        step()
        shutil.rmtree(scratch, ignore_errors=True)
    log(
        f"  cat {case.times['cat'][-1]:.3f} s, dvc {case.times['dvc_cold'][-1]:.3f} s "
        f"(again {case.times['dvc_warm'][-1]:.3f} s), "
        f"modelwright {case.times['mw_cold'][-1]:.3f} s "
        f"(again {case.times['mw_warm'][-1]:.3f} s)"
    )


def _copy(case: Case, trial: Path) -> None:
    trial.mkdir(parents=True)
    case.add("copy", timed(copy_command(case.path, trial / case.path.name)))


def _pair(case: Case, tool: str, seconds: tuple[float, float]) -> None:
    case.add(f"{tool}_cold", seconds[0])
    case.add(f"{tool}_warm", seconds[1])


def _loads() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def _coreutils() -> str:
    done = subprocess.run(["cat", "--version"], capture_output=True, text=True, check=False)
    first = done.stdout.splitlines()[0] if done.stdout else ""
    return first.rsplit(" ", 1)[-1] if first else "?"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Dataset versioning: modelwright register_dataset against dvc add and cat."
    )
    parser.add_argument(
        "--quick", action="store_true", help="64 MiB and 2,000 files: a smoke test, not figures"
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats per figure (median)")
    parser.add_argument(
        "--remove-data", action="store_true", help="delete the generated data afterwards"
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
