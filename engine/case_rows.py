"""Writing a case row: the one optimistic UPDATE of a case, and notes on a case that leave its lock alone.

``update_case`` is how a case changes (``UPDATE … WHERE lock_version = expected``, the lock moves on, a stale
writer gets ``ConflictError``): the runtime saves steps with it, the incidents module changes the status of
a case someone retries or cancels. ``note`` writes what does not change the case itself – the head of its
audit chain, the mark of an open incident – so that forms of the case do not become stale.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import STALE_CASE, ConflictError
from .models import ProcessInstance, search_name_of

# Core statements built once: the SET clause comes from the parameters of each execution.
CASES: sa.Table = ProcessInstance.__table__  # type: ignore[assignment]
_UPDATE_CASE = sa.update(CASES).where(
    CASES.c.id == sa.bindparam("b_case"), CASES.c.lock_version == sa.bindparam("b_expected")
)
_NOTE = sa.update(CASES).where(CASES.c.id == sa.bindparam("b_case"))


def update_case(session: Session, case_id: int, expected: int, values: dict[str, Any]) -> dict[str, Any]:
    """Write ``values`` and move ``lock_version`` on, if nobody wrote the case since ``expected``.

    A new applicant name brings its search text along (``search_name``, same statement).
    Returns the values written (``lock_version`` included). :raises ConflictError:
    """
    written = {**values, "lock_version": expected + 1}
    if "applicant_name" in values:
        written["search_name"] = search_name_of(values["applicant_name"])
    result = session.execute(_UPDATE_CASE, {"b_case": case_id, "b_expected": expected, **written})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            STALE_CASE,
            instance_id=case_id,
            expected=expected,
        )
    return written


def note(session: Session, case_id: int, **values: Any) -> None:
    """Write columns that do not change the case's state (audit head, incident mark, the priority and due date
    a lead set); ``lock_version`` stays, so open forms of the case do not become stale."""
    session.execute(_NOTE, {"b_case": case_id, **values})
