"""Production serving: the gunicorn worker class named in ``gunicorn.conf.py``.

Why not gunicorn's own workers (issue 9, "slow clients"): a sync worker is a whole process that reads one
request at a time – four connections sending a byte per second left ``/healthz`` unanswered for 33 s. The
gthread worker only moves the problem: it hands a connection to a pool thread as soon as its first byte
arrives, and the thread then reads the rest of the request with blocking calls, so ``workers × threads``
trickling connections starve it again.

Here every gunicorn worker process runs uvicorn's asyncio event loop instead. The loop reads each request –
headers and body – without blocking, for up to ``worker_connections`` connections at once; only a
**complete** request reaches the thread pool (``threads``) that runs the Flask app, and the loop writes
the response. A slow client costs a socket and a buffer in the loop, never a thread or a process.

gunicorn stays the process manager (pre-fork, restarts, graceful reload, heartbeat timeout), and every
setting lives in ``gunicorn.conf.py``; this class only maps gunicorn's ``threads`` and
``worker_connections`` onto the thread pool and uvicorn's connection limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY = 1024 * 1024


class ReadBodyFirst:
    """ASGI middleware: read the whole request body in the event loop before calling ``app``.

    The WSGI bridge would otherwise start the app in a pool thread right after the headers and let it
    block there on a body that trickles in. A body over ``max_body`` bytes is answered with 413 without
    being read further (a declared Content-Length over the limit goes straight to the app, which refuses
    it before reading, with its German error page).
    """

    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _declared_length(scope) > self.max_body:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away before its request was complete: nothing to run
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _refuse(send, 413, "Die gesendeten Daten sind zu groß.")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message | None = {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        async def replay() -> Message:
            nonlocal body
            if body is not None:
                message, body = body, None
                return message
            return await receive()

        await self.app(scope, replay, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def _refuse(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class EgsWorker(UvicornWorker):  # type: ignore[misc]  # uvicorn_worker ships no type information
    """A gunicorn worker: uvicorn's event loop reads requests, a pool of ``threads`` runs the WSGI app.

    h11 is the HTTP parser: pure Python, and it caps an incomplete request head at 16 KiB, so a client
    cannot grow a header without bound while it trickles.
    """

    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "asyncio",
        "http": "h11",
        "interface": "asgi3",
        "lifespan": "off",
        "server_header": False,
    }

    wsgi: Any  # set by gunicorn's load_wsgi: the app of wsgi_app; replaced by the ASGI app below

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Beyond this many connections (or requests in flight) per worker, uvicorn answers 503 at once.
        self.config.limit_concurrency = self.cfg.worker_connections

    def load_wsgi(self) -> None:
        super().load_wsgi()
        wsgi_app = self.wsgi
        max_body = getattr(wsgi_app, "config", {}).get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY
        # send_queue_size=0: the response's chunks queue up in the event loop without bound, so a thread hands
        # over the whole response and is free, however slowly the client reads (Flask builds every response
        # in memory anyway; static files are at most a few hundred KiB).
        bridge = cast(ASGIApp, WSGIMiddleware(wsgi_app, workers=self.cfg.threads, send_queue_size=0))
        self.wsgi = ReadBodyFirst(bridge, max_body=max_body)
