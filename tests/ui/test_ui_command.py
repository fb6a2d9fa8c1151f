"""``modelwright ui``: the embedded platform's UI, a link that signs in once, and a token
that ends with the command."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import modelwright

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_printed_link_signs_in_once_and_the_token_ends_with_the_command(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with modelwright.connect(home) as client:
        client.create_workspace("ml")
        with client.start_run("churn", workspace="ml", name="first", snapshot=False) as run:
            run.log_metric("auc", 0.9)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    env.pop("MODELWRIGHT_DB_URL", None)
    with subprocess.Popen(
        [sys.executable, "-m", "modelwright", "ui", "--home", str(home), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            link = ""
            deadline = time.monotonic() + 60
            while not link and time.monotonic() < deadline:
                line = proc.stdout.readline() if proc.stdout else ""
                if not line and proc.poll() is not None:
                    break
                found = re.search(r"http://\S+/sign-in\?once=\S+", line)
                link = found[0] if found else ""
            assert link, proc.stderr.read() if proc.stderr else ""
            with httpx.Client(follow_redirects=True) as http:
                for _ in range(200):  # the link is printed just before the server listens
                    try:
                        r = http.get(link)
                        break
                    except httpx.ConnectError:
                        time.sleep(0.1)
                assert r.status_code == 200, r.text  # followed to "/"
                assert "ml" in http.get(f"http://127.0.0.1:{port}/w/ml/runs").text
                assert "first" in http.get(f"http://127.0.0.1:{port}/w/ml/runs").text
            with httpx.Client() as again:
                assert again.get(link).status_code == 401
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    with modelwright.connect(home) as client:
        (token,) = [t for t in client.list_tokens() if t.name == "modelwright ui"]
        assert token.revoked_at is not None
