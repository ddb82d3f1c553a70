"""Database access: engine creation for SQLite and PostgreSQL and the transaction helpers.

Only entry points (engine API functions, CLI, requests) open transactions; everything below receives
the session. Write transactions on SQLite start with ``BEGIN IMMEDIATE`` so two writers serialise
instead of failing half-way with a stale snapshot; PostgreSQL relies on row locks and ``lock_version``.

A step runs model code in a jail for up to its time limit. On SQLite, whose write lock covers the whole
database, ``optimistically`` first runs such work in a deferred transaction that takes the lock only at its
first write; if another writer committed meanwhile or holds the lock at that moment (SQLite refuses the write
with ``SQLITE_BUSY_SNAPSHOT`` or ``SQLITE_BUSY``), the work runs once more with the lock taken at the start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from .audit_keys import key_id

_WRITE = "egs_write"
AUDIT_KEY = "egs_audit_key"  # Session.info: the key of the audit chains that signs new events
AUDIT_KEY_ID = "egs_audit_key_id"  # Session.info: its id (``audit_keys.key_id``), stored with every event
AUDIT_KEYS = "egs_audit_keys"  # Session.info: id → key of every key ever used (verification)
SQLITE_BUSY = 5  # another connection writes; a transaction that has read already is told at once, without waiting
SQLITE_BUSY_SNAPSHOT = 517  # extended result code: a deferred transaction's snapshot is older than the database
log = logging.getLogger("egs.engine")
T = TypeVar("T")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_db_engine(url: str, **kwargs: Any) -> sa.Engine:
    """Create a SQLAlchemy engine with the connection settings this application relies on."""
    if is_sqlite(url):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """Owns the SQLAlchemy engine and hands out read and write transactions."""

    def __init__(
        self, url: str, audit_key: str = "egs-test-audit-key", older_keys: Sequence[str] = (), **engine_kwargs: Any
    ) -> None:
        """``audit_key``: the HMAC key of the audit chains (``engine.audit``) that signs new events, handed to
        every session with the ``older_keys`` (verification); the engine passes the configured ones, the
        default serves tools and tests only."""
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)
        self.is_sqlite = is_sqlite(url)
        self._info: dict[str, Any] = {}
        self.use_audit_keys(audit_key, older_keys)
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False, info=self._info)
        self._write_sessions = sessionmaker(
            bind=self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False, info=self._info
        )

    def use_audit_keys(self, audit_key: str, older_keys: Sequence[str] = ()) -> None:
        """Sign new events with ``audit_key`` from the next session on (after ``egs audit rotate-key``)."""
        keys = {key_id(key.encode()): key.encode() for key in [*older_keys, audit_key]}
        self._info.update({AUDIT_KEY: audit_key.encode(), AUDIT_KEY_ID: key_id(audit_key.encode()), AUDIT_KEYS: keys})

    @contextmanager
    def transaction(self, *, optimistic: bool = False) -> Iterator[Session]:
        """Yield a session in one write transaction: committed on success, rolled back on any error.

        ``optimistic`` (SQLite only): take the write lock at the first write, not at the start; the transaction
        may then fail with a lost snapshot (see ``optimistically``).
        """
        sessions = self._read_sessions if optimistic and self.is_sqlite else self._write_sessions
        with sessions() as session, session.begin():
            yield session

    def lost_snapshot(self, exc: BaseException) -> bool:
        """True if an optimistic SQLite transaction could not write because another writer committed since it
        read (``SQLITE_BUSY_SNAPSHOT``) or writes right now (``SQLITE_BUSY``: SQLite does not wait for the lock
        when a transaction that has read already asks for it)."""
        code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
        busy = code in (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT)
        return self.is_sqlite and isinstance(exc, sa.exc.OperationalError) and busy

    def optimistically(self, work: Callable[[bool], T]) -> T:
        """Run ``work(optimistic)``: on SQLite first with ``optimistic=True`` (no write lock while it reads and
        runs model code) and, if that lost its snapshot to another writer, once more with ``False``."""
        if self.is_sqlite:
            try:
                return work(True)
            except sa.exc.OperationalError as exc:
                if not self.lost_snapshot(exc):
                    raise
                log.info("another writer committed during an optimistic step; repeating it under the write lock")
        return work(False)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Yield a session for queries only; nothing it does is committed.

        Closing the session ends its transaction without expiring loaded objects, so rows read here
        stay readable afterwards.
        """
        with self._read_sessions() as session:
            yield session

    def ping(self) -> bool:
        """True if the database answers (False on any database error, which is logged by type only)."""
        try:
            with self.engine.connect() as connection:
                return connection.execute(sa.text("SELECT 1")).scalar() == 1
        except sa.exc.SQLAlchemyError as exc:
            log.warning("database unreachable (%s)", type(exc).__name__)
            return False

    def dispose(self) -> None:
        self.engine.dispose()
