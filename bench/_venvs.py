"""A peer's own virtual environment under ``bench/.venvs/<peer>``, made on first use.

Standard library only. Each peer is pinned in ``bench/requirements-<peer>.txt`` by a line
``<package>==<version>`` (extras allowed: ``zenml[local]==0.98.0``); the venv is made with
``python3 -m venv`` and filled with ``pip install -r`` from PyPI, and made again only when the
installed version differs from the pin. The MLflow venv belongs to ``_peers.py``
(``_peers.mlflow_venv``) and is not made here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
VENVS = BENCH / ".venvs"  # git-ignored

_PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;]+)")


def requirements(peer: str) -> Path:
    return BENCH / f"requirements-{peer}.txt"


def pin(peer: str, package: str | None = None) -> str:
    """The version that ``requirements-<peer>.txt`` pins for ``package`` (default: ``peer``)."""
    wanted = (package or peer).lower()
    for raw in requirements(peer).read_text().splitlines():
        match = _PIN.match(raw.split("#", 1)[0].strip())
        if match and match.group(1).lower() == wanted:
            return match.group(3)
    raise RuntimeError(f"{requirements(peer)} pins no {wanted}==VERSION")


def installed(python: Path, package: str) -> str | None:
    """The version of ``package`` installed for ``python``, or None."""
    done = subprocess.run(
        [str(python), "-c", f"from importlib.metadata import version; print(version({package!r}))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def ensure(peer: str, log: Callable[[str], None] = print) -> Path:
    """The python of ``bench/.venvs/<peer>`` with the pinned version, made or updated if needed."""
    version = pin(peer)
    venv = VENVS / peer
    python = venv / "bin" / "python"
    if python.exists() and installed(python, peer) == version:
        return python
    if not python.exists():
        log(f"creating {venv.relative_to(BENCH.parent)} (python3 -m venv)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log(f"installing {peer}=={version} from PyPI into it (a few minutes, once)")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements(peer))],
        check=True,
    )
    got = installed(python, peer)
    if got != version:
        raise RuntimeError(f"{peer}=={version} did not install into {venv} (found {got})")
    return python


if __name__ == "__main__":
    # bench/.venvs/<peer> for each peer named: .venv/bin/python bench/_venvs.py zenml kedro
    for name in sys.argv[1:]:
        print(name, ensure(name))
