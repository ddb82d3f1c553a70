"""The wire between the engine and its jail processes: length-prefixed JSON frames over a pipe.

JSON, never pickle: a jail runs model code, so whatever comes back from it is read as data only. Values
SpiffWorkflow keeps in case data (dates, datetimes) travel in its own typed form (``{"typename": …}``).
"""

from __future__ import annotations

import json
import os
import struct
import threading
from typing import Any

from .serialization import make_serializer

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 64 * 1024 * 1024

_local = threading.local()


class ChannelClosed(Exception):
    """The other side closed the pipe (or died)."""


class FrameTooLarge(Exception):
    """A frame announced more bytes than a frame may have."""


def _registry() -> Any:
    registry = getattr(_local, "registry", None)
    if registry is None:
        registry = _local.registry = make_serializer().registry
    return registry


def encode(message: dict[str, Any]) -> bytes:
    """A frame holding ``message`` (dates and datetimes included)."""
    body = json.dumps(_registry().convert(message), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(body) > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"{len(body)} bytes")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    """The message in a frame body. :raises ValueError: not a JSON object."""
    message = _registry().restore(json.loads(body.decode("utf-8")))
    if not isinstance(message, dict):
        raise ValueError("frame is not an object")
    return message


def frame_length(header: bytes) -> int:
    """The body length a header announces. :raises FrameTooLarge:"""
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"{length} bytes")
    return int(length)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int) -> bytes:
    """Blocking read of ``size`` bytes. :raises ChannelClosed: end of file first."""
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise ChannelClosed
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> dict[str, Any]:
    """Blocking read of one message (the jail side). :raises ChannelClosed:"""
    length = frame_length(read_exactly(fd, HEADER.size))
    return decode(read_exactly(fd, length))
