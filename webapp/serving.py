"""Production serving: the gunicorn worker class named in ``gunicorn.conf.py``.

Why not gunicorn's own workers (issue 9, "slow clients"): a sync worker is a whole process that reads one
request at a time – four connections sending a byte per second left ``/healthz`` unanswered for 33 s. The
gthread worker only moves the problem: it hands a connection to a pool thread as soon as its first byte
arrives, and the thread then reads the rest of the request with blocking calls, so ``workers × threads``
trickling connections starve it again.

Here every gunicorn worker process runs uvicorn's asyncio event loop instead. The loop reads each request –
head and body – without blocking, for up to ``worker_connections`` connections at once; only a
**complete** request goes to the thread pool (``threads``) that runs the Flask app; the thread hands back
the **complete** response and is free, and the loop writes it, however slowly the client reads. A slow
client costs a socket and a buffer in the loop, never a thread or a process.

The bridge from ASGI to WSGI is this module's own (``BufferedWSGI``), not a general one: a general bridge
streams the body to and the response from the thread, and every chunk makes the thread wait for the
event loop – under load that is one more wait for the interpreter lock per chunk. Flask builds every
response in memory anyway, and request bodies are capped (``MAX_CONTENT_LENGTH``), so buffering both
costs nothing extra.

gunicorn stays the process manager (pre-fork, restarts, graceful reload, heartbeat timeout), and every
setting lives in ``gunicorn.conf.py``; this class only maps gunicorn's ``threads`` and
``worker_connections`` onto the thread pool and uvicorn's connection limit.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]
from werkzeug.serving import WSGIRequestHandler

from engine.logs import NoPersonalData, without_query_values

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]

DEFAULT_MAX_BODY = 1024 * 1024
TOO_LARGE = "Die gesendeten Daten sind zu groß."


class BufferedWSGI:
    """An ASGI app that runs a WSGI app on complete requests and takes back complete responses.

    A body over ``max_body`` bytes is answered with 413 as soon as it gets too large; a declared
    Content-Length over the limit goes to the WSGI app unread, which refuses it (Flask: its German page).
    """

    def __init__(self, app: WSGIApp, threads: int, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body
        self.executor = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="wsgi")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets; lifespan events are switched off in the worker
        declared = _declared_length(scope)
        body = b""
        if declared <= self.max_body:
            read = await self._read_body(receive)
            if read is None:
                return  # the client went away before its request was complete: nothing to run
            if len(read) > self.max_body:
                await _plain(send, 413, TOO_LARGE)
                return
            body = read
        environ = build_environ(scope, body, declared if declared > self.max_body else len(body))
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.executor, self.run_app, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body (stops reading one byte past the limit); None if the client disconnected."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body or not message.get("more_body", False):
                return b"".join(chunks)

    def run_app(self, environ: dict[str, Any]) -> Response:
        """Run the WSGI app in a pool thread; return status, headers and the whole body."""
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        iterable = self.app(environ, start_response)
        try:
            for chunk in iterable:
                chunks.append(chunk)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        status, headers = started
        encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return int(status.split(" ", 1)[0]), encoded, b"".join(chunks)


def build_environ(scope: Scope, body: bytes, content_length: int) -> dict[str, Any]:
    """The WSGI environ of a buffered ASGI request (PEP 3333: native strings hold latin-1 bytes)."""
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "CONTENT_LENGTH": str(content_length),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1")
        if "_" in name:
            continue  # X_Forwarded_For would pose as X-Forwarded-For (gunicorn drops these too)
        if name in ("content-length", "transfer-encoding"):
            continue  # the body is complete: CONTENT_LENGTH above is its length
        key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AccessLogFilter(logging.Filter):
    """uvicorn's access log lines without query values (inbox searches carry names, exports their parameters)
    and without the client address: logs carry no personal data (``engine.logs``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn: '%s - "%s %s HTTP/%s" %d' % (client address, method, path with query, version, status)
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = ("-", args[1], without_query_values(args[2]), *args[3:])
        return True


class DevRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler for ``egs serve``: no ``Server`` header (it named werkzeug's and Python's
    versions), and request log lines without query values or client address."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def address_string(self) -> str:
        return "-"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        target = without_query_values(getattr(self, "path", "") or "")
        line = f"{getattr(self, 'command', '') or '-'} {target} {getattr(self, 'request_version', '')}".strip()
        self.log("info", '"%s" %s %s', line.translate(self._control_char_table), code, size)


class EgsWorker(UvicornWorker):  # type: ignore[misc]  # uvicorn_worker ships no type information
    """A gunicorn worker: uvicorn's event loop reads requests, a pool of ``threads`` runs the WSGI app.

    h11 is the HTTP parser: pure Python, and it caps an incomplete request head at 16 KiB, so a client
    cannot grow a header without bound while it trickles.
    """

    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "asyncio",
        "http": "h11",
        "ws": "none",
        "interface": "asgi3",
        "lifespan": "off",
        "server_header": False,  # no "Server: uvicorn" (issue 10: no server software in the headers)
    }

    wsgi: Any  # set by gunicorn's load_wsgi: the app of wsgi_app; replaced by the ASGI app below

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Beyond this many connections (or requests in flight) per worker, uvicorn answers 503 at once.
        self.config.limit_concurrency = self.cfg.worker_connections

    def init_process(self) -> None:
        logging.getLogger("uvicorn.access").addFilter(AccessLogFilter())
        logging.getLogger("uvicorn.error").addFilter(NoPersonalData())
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        max_body = getattr(self.wsgi, "config", {}).get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY
        self.wsgi = BufferedWSGI(self.wsgi, threads=self.cfg.threads, max_body=max_body)
