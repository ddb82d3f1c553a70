"""The export registry: one seam for CLI and web, each export checked, permitted and audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import clock, exports
from engine.api import Engine
from engine.errors import FormValidationError, NotFoundError
from engine.models import AuditEvent, PaymentListEntry


def test_cells_that_would_run_as_formulas_are_neutralised() -> None:
    text = exports.csv_text(
        ("Name", "Betrag"), [('=HYPERLINK("http://x")', "1,00"), ("@SUMME(A1)", "-3"), ("Kornblume", "2,00")]
    )
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[1:] == ['"\'=HYPERLINK(""http://x"")";1,00', "'@SUMME(A1);'-3", "Kornblume;2,00"]


def test_a_recipient_name_cannot_smuggle_a_formula_into_the_sammelliste(deployed: Engine) -> None:
    with deployed.db.transaction() as session:
        session.add(PaymentListEntry(site="56.4", measure_type="EGZ", pay_month="2025-05", recipient="=1+1",
                                     amount_cents=100, instance_id=None, business_key="VG-1", approved_by="egs",
                                     created_at=clock.now()))  # fmt: skip
    result = deployed.export(
        deployed.actor("egs"), "sammelliste", {"standort": "56.4", "art": "EGZ", "monat": "2025-05"}
    )
    assert "56.4;EGZ;2025-05;VG-1;'=1+1;1,00;egs;" in result.content.splitlines()


def test_unknown_exports_and_parameters_are_clear_errors_and_store_nothing(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    with pytest.raises(NotFoundError, match="Den Export „xes“ gibt es nicht"):
        deployed.export(egs, "xes", {})
    with pytest.raises(FormValidationError) as refused:
        deployed.export(egs, "raci", {"standort": "56.4"})
    assert refused.value.field_errors == {"standort": ["Unbekannter Parameter für diesen Export."]}
    with deployed.db.reading() as session:
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")) == 0
        )


def test_every_registered_export_has_a_german_title_and_described_parameters() -> None:
    assert set(exports.REGISTRY) >= {"sammelliste", "raci"}
    for export in exports.REGISTRY.values():
        assert export.title and all(description for description in export.parameters.values())
