"""The jail pool: steps of cases run in separate processes that the engine can limit and kill.

Model code (scripts, conditions, timer expressions, DMN) is written by process owners in the browser.
One C-level operation (``(10**1000)**1000``) or one string method (``'x'.ljust(3*10**9)``) holds the
interpreter or its memory long before any guard in the sandbox could see it. So the web and worker
processes never run model code: they send the step (model, case state, task, data) to a jail process
(``engine.jail_main``) and store what comes back. A jail has a memory limit, a CPU-time limit, no files,
sockets or database; when a step overruns its wall-clock time the jail is killed and replaced, the step
fails with a German error and nothing of it is stored.

The pool is shared by every engine of the process (keyed by its limits) and grows on demand up to
``processes`` jails; a thread that finds them all busy waits for one.
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConflictError, EngineError, ScriptError
from .jail_protocol import HEADER, ChannelClosed, FrameTooLarge, decode, encode, frame_length

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30.0
MAX_REQUESTS = 5_000  # a jail is replaced after this many requests (caches, fragmentation)

ServiceHandler = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class JailLimits:
    """What one jail may use."""

    processes: int = 2
    step_seconds: float = 10.0
    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: float = 10.0

    def argument(self) -> str:
        return json.dumps(
            {
                "memory_bytes": self.memory_bytes,
                "cpu_seconds": self.cpu_seconds,
                "cpu_total_seconds": int(self.cpu_seconds * MAX_REQUESTS),
            }
        )


class JailFailure(Exception):
    """The jail process died, overran its time or broke the protocol (it has been killed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JailProcess:
    """One jail process and the pipe to it. Used by one thread at a time."""

    def __init__(self, limits: JailLimits) -> None:
        self.limits = limits
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONPATH": str(PACKAGE_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.jail_main", limits.argument()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # tracebacks of model code would carry case data
            env=env,
            cwd="/",
            close_fds=True,
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.write_fd = self.process.stdin.fileno()
        self.read_fd = self.process.stdout.fileno()
        os.set_blocking(self.write_fd, False)
        os.set_blocking(self.read_fd, False)
        self.models: set[str] = set()
        self.konfigs: set[str] = set()
        self.requests = 0
        self.dead = False
        self.request({"op": "hello"}, deadline=time.monotonic() + START_SECONDS)

    def request(
        self, message: dict[str, Any], *, deadline: float, on_call: ServiceHandler | None = None
    ) -> dict[str, Any]:
        """Send one request and wait for its answer, serving the jail's service calls meanwhile.

        :raises JailFailure: the jail died, overran ``deadline`` or sent garbage (it is killed).
        """
        self.requests += 1
        try:
            self._write(encode(message), deadline)
            while True:
                reply = self._read(deadline)
                call = reply.get("call")
                if call is None:
                    return reply
                self._write(encode(self._serve_call(call, on_call)), deadline)
        except JailFailure:
            self.kill()
            raise
        except (ChannelClosed, BrokenPipeError):
            self.kill()
            raise JailFailure(self._death_reason()) from None
        except (FrameTooLarge, ValueError, UnicodeDecodeError):
            self.kill()
            raise JailFailure("Der Schritt lieferte ein zu großes oder unlesbares Ergebnis.") from None

    @staticmethod
    def _serve_call(call: Any, on_call: ServiceHandler | None) -> dict[str, Any]:
        if on_call is None or not isinstance(call, dict):
            return {"refused": True}
        try:
            return {"result": on_call(str(call.get("name", "")), dict(call.get("params") or {}))}
        except ServiceRefused:
            return {"refused": True}

    def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            self._wait(self.write_fd, deadline, writing=True)
            try:
                written = os.write(self.write_fd, view)
            except BlockingIOError:
                continue
            view = view[written:]

    def _read(self, deadline: float) -> dict[str, Any]:
        length = frame_length(self._read_exactly(HEADER.size, deadline))
        return decode(self._read_exactly(length, deadline))

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while size:
            self._wait(self.read_fd, deadline, writing=False)
            try:
                chunk = os.read(self.read_fd, min(size, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise ChannelClosed
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _wait(self, fd: int, deadline: float, *, writing: bool) -> None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JailFailure(
                    f"Der Schritt dauerte länger als {self.limits.step_seconds:g} s und wurde abgebrochen."
                )
            try:
                ready = select.select([], [fd], [], remaining) if writing else select.select([fd], [], [], remaining)
            except InterruptedError:
                continue
            if ready[1 if writing else 0]:
                return

    def _death_reason(self) -> str:
        code = self.process.poll()
        if code is None:
            try:
                code = self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
        if code == -signal.SIGXCPU:
            return f"Der Schritt brauchte mehr als {self.limits.cpu_seconds:g} s Rechenzeit und wurde abgebrochen."
        return "Der Schritt hat das Speicher- oder Rechenlimit überschritten und wurde abgebrochen."

    def kill(self) -> None:
        """Stop the process for good (the pool starts a new one when needed)."""
        if self.dead:
            return
        self.dead = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class ServiceRefused(Exception):
    """Raised by a service handler to tell the jail the call was refused (the real error is kept aside)."""


class JailPool:
    """Up to ``limits.processes`` jails, handed to one thread at a time."""

    def __init__(self, limits: JailLimits) -> None:
        self.limits = limits
        self._idle: list[JailProcess] = []
        self._count = 0
        self._condition = threading.Condition()
        self.kills = 0
        self.started = 0

    @contextmanager
    def jail(self) -> Iterator[JailProcess]:
        """A jail for the block; a jail that failed in it is replaced."""
        process = self._acquire()
        try:
            yield process
        finally:
            self._release(process)

    def _acquire(self) -> JailProcess:
        with self._condition:
            while not self._idle and self._count >= self.limits.processes:
                self._condition.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            process = JailProcess(self.limits)
        except BaseException:
            with self._condition:
                self._count -= 1
                self._condition.notify()
            raise
        with self._condition:
            self.started += 1
        return process

    def _release(self, process: JailProcess) -> None:
        if not process.dead and process.requests >= MAX_REQUESTS:
            process.kill()
        with self._condition:
            if process.dead:
                self._count -= 1
                self.kills += 1
            else:
                self._idle.append(process)
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for process in idle:
            process.kill()


_POOLS: dict[JailLimits, JailPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(limits: JailLimits) -> JailPool:
    """The process-wide pool for these limits."""
    with _POOLS_LOCK:
        pool = _POOLS.get(limits)
        if pool is None:
            pool = _POOLS[limits] = JailPool(limits)
        return pool


def pools() -> list[JailPool]:
    with _POOLS_LOCK:
        return list(_POOLS.values())


def _close_all() -> None:
    for pool in pools():
        pool.close()


def _forget_after_fork() -> None:
    """A forked child (a gunicorn worker) must not share its parent's jails or their pipes."""
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


atexit.register(_close_all)
os.register_at_fork(after_in_child=_forget_after_fork)


def raise_error(error: dict[str, Any]) -> None:
    """Raise the engine error a jail reported."""
    kind = error.get("kind")
    if kind == "script":
        line = error.get("line")
        raise ScriptError(
            str(error.get("detail", "")),
            element_id=str(error.get("element") or ""),
            line=line if isinstance(line, int) else None,
        )
    if kind == "conflict":
        raise ConflictError(str(error.get("message", "")))
    raise EngineError(str(error.get("message") or "Interner Fehler im Jail-Prozess."))
