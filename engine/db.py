"""Database access: engine creation for SQLite and PostgreSQL and the transaction helpers.

Only entry points (engine API functions, CLI, requests) open transactions; everything below receives
the session. Write transactions on SQLite start with ``BEGIN IMMEDIATE`` so two writers serialise
instead of failing half-way with a stale snapshot; PostgreSQL relies on row locks and ``lock_version``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

_WRITE = "egs_write"
log = logging.getLogger("egs.engine")


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

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)
        self.is_sqlite = is_sqlite(url)
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            bind=self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session in one write transaction: committed on success, rolled back on any error."""
        with self._write_sessions() as session, session.begin():
            yield session

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
