"""What a killed writer staged is removed by the next one; what a live writer stages is not."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from modelwright.store._artifacts_local import (
    FOREIGN_STAGING_SECONDS,
    LocalWriter,
    sweep_staging,
)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_dead_writers_go_and_live_writers_files_stay(tmp_path: Path) -> None:
    staging = tmp_path / "tmp"
    staging.mkdir()
    host = socket.gethostname()
    dead = staging / f"put~{_dead_pid()}~{host}~abc.part"
    live = staging / f"bulk~{os.getpid()}~{host}~def-0.part"
    foreign_fresh = staging / "pack~1~another-host~x-0.part"
    foreign_old = staging / "pack~1~another-host~y-0.part"
    old_unowned = staging / "put-0123.part"
    for f in (dead, live, foreign_fresh, foreign_old, old_unowned):
        f.write_bytes(b"x" * 1000)
    day_ago = time.time() - FOREIGN_STAGING_SECONDS - 60
    for f in (foreign_old, old_unowned):
        os.utime(f, (day_ago, day_ago))
    other = staging / "keep.txt"  # not a staged file
    other.write_text("x")

    assert sweep_staging(staging) == 3
    assert sorted(p.name for p in staging.iterdir()) == sorted(
        [live.name, foreign_fresh.name, other.name]
    )


def test_opening_a_store_sweeps_what_a_killed_registration_left(tmp_path: Path) -> None:
    """A real writer killed with SIGKILL mid-write; the next process's store removes its file."""
    root = tmp_path / "store"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from modelwright.store._artifacts_local import LocalWriter\n"
        "def chunks():\n"
        "    yield b'x' * 1024\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "    yield b'y'\n"
        f"LocalWriter({str(root)!r}).put_chunks(chunks())\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing"
        staged = list((root / "tmp").glob("*.part"))
        assert len(staged) == 1
        # While the writer lives, a new store leaves its file alone.
        LocalWriter(str(root))
        assert staged[0].exists()
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(10)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(10)
        if writer.stdout is not None:
            writer.stdout.close()
    LocalWriter(str(root))
    assert list((root / "tmp").glob("*.part")) == []
