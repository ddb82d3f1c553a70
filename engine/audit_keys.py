"""The keys of the audit chains: a key file with every key ever used, oldest first; the last one signs.

One line per key, ``<id> <key>``; the id is derived from the key (``key_id``), so a line whose id does not fit
its key is refused instead of verifying with the wrong key. A file of one bare key (the format before key
rotation) is a ring of one. ``egs audit rotate-key`` appends a new key; old keys stay in the file for good,
because every event names the key that signed it (``audit_event.key_id``) and is verified with that key.

Why an id on every event rather than a table of key epochs: web and workers pick up a new key when they are
restarted, not all at the same instant, so for a while events signed with the old and the new key interleave.
An event that names its key verifies however they interleave; an epoch boundary would turn that into findings.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from .errors import ConfigurationError

HEADER = (
    "# Schlüssel der Audit-Ketten (HMAC-SHA256), ältester zuerst; der letzte signiert neue Ereignisse.\n"
    "# Nie einen Schlüssel entfernen oder ändern: jedes Ereignis wird mit dem Schlüssel geprüft, der es signiert hat.\n"
)


def key_id(key: bytes) -> str:
    """A short name of a key that does not give it away (on every event, in anchors and in the key file)."""
    return hmac.new(key, b"egs-audit-key-id", hashlib.sha256).hexdigest()[:16]


def parse(text: str, source: str = "Schlüsseldatei") -> list[str]:
    """The keys of a key file, oldest first. :raises ConfigurationError: a line whose id does not fit its key."""
    keys: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) == 1:
            keys.append(parts[0])
            continue
        if len(parts) != 2 or key_id(parts[1].encode()) != parts[0]:
            raise ConfigurationError(
                f"{source}, Zeile {number}: erwartet „<Kennung> <Schlüssel>“ mit passender Kennung"
            )
        keys.append(parts[1])
    return keys


def text_of(keys: Sequence[str]) -> str:
    """A key file holding ``keys`` (oldest first)."""
    return HEADER + "".join(f"{key_id(key.encode())} {key}\n" for key in keys)


def rotate(path: Path, current: str) -> tuple[str, str]:
    """Append a new random key to the key file whose last key is ``current``; return (old id, new id).

    The file is replaced atomically (a temporary file beside it, created exclusively, so two rotations at once
    cannot lose a key). :raises ConfigurationError: no such file, another key is active, or it cannot be written.
    """
    try:
        keys = parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"Schlüsseldatei {path} ist nicht lesbar: {exc.strerror}") from exc
    if not keys or keys[-1] != current:
        raise ConfigurationError(
            "Der aktive Schlüssel stammt nicht aus der Schlüsseldatei (EGS_AUDIT_KEY gesetzt?); "
            "ein Schlüsselwechsel braucht EGS_AUDIT_KEY_FILE."
        )
    new = secrets.token_hex(32)
    temporary = path.with_name(path.name + ".neu")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigurationError(f"Ein Schlüsselwechsel läuft bereits ({temporary} existiert).") from exc
    except OSError as exc:
        raise ConfigurationError(f"Schlüsseldatei {path} ist nicht beschreibbar: {exc.strerror}") from exc
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text_of([*keys, new]))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return key_id(current.encode()), key_id(new.encode())
