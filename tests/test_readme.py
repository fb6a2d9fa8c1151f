"""The README's Python examples run as written (in a fresh platform home)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from modelwright.settings import ClientSettings, Settings

README = Path(__file__).resolve().parents[1] / "README.md"
SRC = Path(__file__).resolve().parents[1] / "src" / "modelwright"


def test_readme_python_examples_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    script = tmp_path / "readme_examples.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MODELWRIGHT_FLUSH_INTERVAL": "0.2"}
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "baseline 0.91" in proc.stdout
    assert (tmp_path / ".modelwright" / "modelwright.db").exists()


def test_every_setting_is_documented() -> None:
    """The platform's and the client's settings, and the variables the SDK reads, are in the
    README's table."""
    names = {
        f"MODELWRIGHT_{field.upper()}"
        for settings in (Settings, ClientSettings)
        for field in settings.model_fields
    }
    for package in ("client", "runner"):
        for path in (SRC / package).rglob("*.py"):
            names |= set(re.findall(r'"(MODELWRIGHT_[A-Z_]+)"', path.read_text()))
    text = README.read_text(encoding="utf-8")
    assert sorted(n for n in names if f"`{n}`" not in text) == []
