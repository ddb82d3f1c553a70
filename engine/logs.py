"""Logging setup for the command line and the web server – and the rule that logs carry no personal data.

Our own log lines never carry personal data (ids, types and counts only; who did what is in the audit trail).
SpiffWorkflow logs every task state change at INFO with task details, and Alembic announces each run; both
are limited to warnings.

Request logs are where personal data slips in: an inbox search puts a name into the query string
(``/?suche=Probstfeld``), an export its parameters. Every request logger therefore keeps the path and the
names of the query parameters but not their values (``/?suche=…``), and no client address:

* ``egs serve`` (werkzeug's development server): ``webapp.serving.DevRequestHandler``;
* production (gunicorn with uvicorn's event loop): ``webapp.serving.AccessLogFilter`` on ``uvicorn.access``;
* anything else that reaches the handlers installed here: ``NoPersonalData`` scrubs request targets in the
  finished message, as a safety net.
"""

from __future__ import annotations

import logging
import re

QUIET_LOGGERS = ("spiff", "alembic")
HIDDEN = "…"
# A request target in a log line: a path, then a query up to whitespace or a quote.
_TARGET = re.compile(r"(?P<path>/[^\s?\"']*)\?(?P<query>[^\s\"']*)")
_PARAMETER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,30}")


def without_query_values(target: str) -> str:
    """``/pfad?suche=Probstfeld&tab=gruppe`` → ``/pfad?suche=…&tab=…`` (names that do not look like the app's
    parameter names are hidden as well)."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    names = []
    for part in query.split("&"):
        name = part.split("=", 1)[0]
        names.append(f"{name}={HIDDEN}" if _PARAMETER_NAME.fullmatch(name) else HIDDEN)
    return f"{path}?{'&'.join(names)}"


def scrub(text: str) -> str:
    """``text`` with the query values of every request target in it hidden."""
    return _TARGET.sub(lambda match: without_query_values(match.group(0)), text)


class NoPersonalData(logging.Filter):
    """Hides query values in any log message (the request line of a server that logs on its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report, not ours
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; third-party chatter only from WARNING up; no query values in any line."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, NoPersonalData) for f in handler.filters):
            handler.addFilter(NoPersonalData())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
