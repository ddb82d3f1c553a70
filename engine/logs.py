"""Logging setup for the command line and the web server.

Our own log lines never carry personal data (ids and types only). SpiffWorkflow logs every task
state change at INFO with task details, and Alembic announces each run; both are limited to warnings.
"""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("spiff", "alembic")


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; third-party chatter only from WARNING up."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
