"""The audit function sees a tampered and a cut-off trail reported on the page *Prüfung* (keyboard, axe)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.auth import system_actor
from engine.models import AuditEvent, ProcessInstance
from tests.browser.test_accessibility import axe_page, violations  # noqa: F401  (fixture)
from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver
from tests.support.tampering import bypassing_guards, case_events

pytestmark = pytest.mark.browser


def test_auditor_sees_tampering_and_a_cut_tail_named(axe_page, live_engine) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    edited = CaseDriver(live_engine, pb.PROCESS)
    edited.complete("Besucher anmelden und Anliegen erfassen", pb.anmeldung())
    cut = CaseDriver(live_engine, pb.PROCESS)
    cut.complete("Besucher anmelden und Anliegen erfassen", pb.anmeldung())
    live_engine.anchor_audit(system_actor("test"))
    changed = [e for e in case_events(live_engine, edited.instance_id) if e.action == "complete"][0]
    last = case_events(live_engine, cut.instance_id)[-1]
    with bypassing_guards(live_engine) as session:
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == changed.id).values(actor="mallory"))
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id == last.id))
        session.execute(sa.update(ProcessInstance).where(ProcessInstance.id == cut.instance_id)
                        .values(audit_head=last.prev_hash))  # fmt: skip

    log_in(axe_page, "audit")
    axe_page.get_by_role("link", name="Prüfung").click()
    axe_page.get_by_label("Gesamter Audit-Trail (alle Ketten und Anker)").check()
    axe_page.get_by_role("button", name="Prüfen").press("Enter")
    alert = axe_page.get_by_role("alert")
    assert "nicht unversehrt" in alert.inner_text()
    table = axe_page.get_by_role("table", name="Befunde: je Kette das erste Ereignis, das nicht passt")
    rows = table.locator("tbody tr").all_inner_texts()
    assert any(f"Vorgang {edited.instance_id}" in row and f"Nr. {changed.id}" in row and "verändert" in row
               for row in rows), rows  # fmt: skip
    assert any(f"Vorgang {cut.instance_id}" in row and f"Nr. {last.id}" in row and "verankert am" in row
               for row in rows), rows  # fmt: skip
    assert violations(axe_page) == []

    axe_page.get_by_label("Ein Vorgang").check()
    axe_page.get_by_label("Vorgangsnummer (intern)").fill(str(cut.instance_id))
    axe_page.get_by_role("button", name="Prüfen").click()
    rows = axe_page.get_by_role("table").first.locator("tbody tr").all_inner_texts()
    assert len(rows) == 1 and f"Vorgang {cut.instance_id}" in rows[0]
