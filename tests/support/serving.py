"""The production web server as a real process: the Dockerfile's command on a free loopback port.

Used by tests/test_serving.py and bench/load.py, so both start exactly what production starts
(``gunicorn -c gunicorn.conf.py``), with extra gunicorn options appended where a caller compares setups.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .engines import ROOT

# Environment variables that would change the server or the app behind the caller's back.
_FOREIGN = ("EGS_", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS")


def production_command() -> list[str]:
    """The Dockerfile's CMD (exec form), run by this interpreter."""
    match = re.search(r"^CMD (\[.*\])\s*$", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.M)
    assert match, "Dockerfile has no CMD in exec form"
    command: list[str] = json.loads(match.group(1))
    assert command[0] == "gunicorn", command
    return [sys.executable, "-m", "gunicorn", *command[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without EGS_*/gunicorn variables, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN)}
    # The audit key production requires (the same one the test environment uses, so prepared data verifies) and
    # anchors of its own, never the checkout's var/.
    env.update(EGS_AUDIT_KEY="egs-test-audit-key", EGS_AUDIT_ANCHOR_DIR=tempfile.mkdtemp(prefix="egs-anker-"))
    env.update(settings)
    return env


def egs_command(env: Mapping[str, str], *args: str) -> str:
    """Run the ``egs`` command line in the project folder; return its output (fails loudly on exit ≠ 0)."""
    result = subprocess.run(
        [sys.executable, "-c", "from webapp.cli import main; main()", *args],
        cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def get(port: int, path: str, timeout: float) -> tuple[int, float]:
    """GET ``path`` on a new connection; return the status and the seconds it took."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


@dataclass
class RunningServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-tail:]


@contextmanager
def production_server(
    env: Mapping[str, str], log: Path, extra_args: Sequence[str] = (), startup_seconds: float = 30.0
) -> Iterator[RunningServer]:
    """Start the production command on a free loopback port; yield once /healthz answers 200; stop it."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*production_command(), *extra_args, "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=dict(env), stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = RunningServer(port, process, log)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            assert process.poll() is None, f"server exited:\n{server.output()}"
            try:
                if get(port, "/healthz", 2.0)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"server did not come up:\n{server.output()}"
            time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
