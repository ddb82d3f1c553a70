"""audit-csv and audit-xes: the event log of filtered cases for the audit function (issue 12)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from engine import exports
from engine.api import Engine
from engine.errors import FormValidationError, PermissionDeniedError
from engine.models import AuditEvent
from tests.support import pb
from tests.support.event_log import at, main_path_case, xes_schema
from tests.support.users import UserFactory
from tests.test_cli import run

XES = "{http://www.w3.org/2001/XMLSchema-instance}"


def exported(engine: Engine, name: str, **parameters: str) -> str:
    result = engine.export(engine.actor("audit"), name, parameters)
    return "".join(engine.export_chunks(result))


def events_of(trace: etree._Element) -> list[dict[str, str]]:
    return [{child.get("key", ""): child.get("value", "") for child in event} for event in trace.iter("event")]


def test_the_main_path_as_xes_validates_against_the_ieee_schema(deployed: Engine, make_user: UserFactory) -> None:
    make_user("egs2", ("EGS", "56.4"))
    instance_id = main_path_case(deployed, delegate_to="egs2")
    text = exported(deployed, "audit-xes", prozess=pb.PROCESS)

    document = etree.fromstring(text.encode("utf-8"))
    schema = xes_schema()
    assert schema.validate(document), schema.error_log
    assert {e.get("prefix") for e in document.iter("extension")} == {"concept", "time", "lifecycle", "org"}
    (trace,) = document.iter("trace")
    attributes = {child.get("key"): child.get("value") for child in trace if child.tag != "event"}
    assert attributes["concept:name"].startswith("VG-") and attributes["prozess"] == pb.PROCESS
    assert attributes["status"] == "completed" and attributes["standort"] == "56.4"
    events = events_of(trace)
    first = [e for e in events if e["concept:name"] == pb.ANMELDEN]
    assert [(e["lifecycle:transition"], e.get("org:resource"), e["time:timestamp"]) for e in first] == [
        ("schedule", None, "2026-03-02T07:00:00.000+00:00"),
        ("assign", "egs", "2026-03-02T07:02:00.000+00:00"),
        ("reassign", "egs2", "2026-03-02T07:03:00.000+00:00"),
        ("complete", "egs2", "2026-03-02T07:10:00.000+00:00"),
    ]
    assert {e["bpmn_id"] for e in first} == {"Task_Anmeldung"}
    assert {e["org:group"] for e in events} == {"EGS", "TL", "LSB"}
    assert sum(e["lifecycle:transition"] == "complete" for e in events) == 10
    assert len(events) == 10 * 3 + 1
    with deployed.db.reading() as session:
        record = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert record.actor == "audit" and record.details["export"] == "audit-xes" and record.details["rows"] == 1
    assert instance_id


def test_exports_leave_out_names_restricted_fields_and_form_values(deployed: Engine) -> None:
    main_path_case(deployed, vorname="Walburga", nachname="Quendelhof")
    egs566 = deployed.actor("egs566")
    with at(300):
        case = deployed.start_case(egs566, "besuchersteuerung", site="56.6")
        task = pb.open_task(deployed, egs566, case.instance_id)
        visit = {"vorname": "Mira", "nachname": "Hollenstedt", "anliegen": "fb50"}
        deployed.complete_task(egs566, task.task_uuid, {**visit, "fb50_stichwort": "Grundsicherungsstichwort"})
    for name in ("audit-xes", "audit-csv"):
        text = exported(deployed, name)
        for secret in ("Walburga", "Quendelhof", "Hollenstedt", "Grundsicherungsstichwort", "L01X00T47",
                       "Erika Empfang", "07402//0094744"):  # fmt: skip
            assert secret not in text, f"{secret} in {name}"
        assert "egs566" in text and "56.6" in text


def test_audit_csv_is_for_german_spreadsheets(deployed: Engine) -> None:
    main_path_case(deployed)
    text = exported(deployed, "audit-csv", prozess=pb.PROCESS)
    assert text.startswith("\ufeffVorgang;Prozess;Version;Standort;Status;Schritt-ID (BPMN);Schritt;Übergang;")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 1 + 30
    first = rows[1:3]
    assert [row[7:10] for row in first] == [["bereit", "02.03.2026 08:00:00", ""],
                                           ["übernommen", "02.03.2026 08:02:00", "egs"]]  # fmt: skip
    assert rows[-1][7] == "erledigt" and rows[-1][10] == "LSB"


def test_a_hostile_business_key_does_not_become_a_formula(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    deployed.start_case(egs, pb.PROCESS, site="56.4", business_key='=HYPERLINK("http://x")')
    task = deployed.inbox(egs)[0]
    deployed.claim(egs, task.task_uuid)
    text = exported(deployed, "audit-csv")
    cells = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";") for cell in row]
    assert '\'=HYPERLINK("http://x")' in cells
    assert not [cell for cell in cells if cell.startswith(exports.FORMULA_STARTS)]


def test_filters_choose_the_cases_and_are_recorded(deployed: Engine) -> None:
    main_path_case(deployed)
    with at(500):
        deployed.start_case(deployed.actor("egs566"), pb.PROCESS, site="56.6")
    pb_cases = {"prozess": pb.PROCESS}
    assert exported(deployed, "audit-xes", standort="56.6", **pb_cases).count("<trace>") == 1
    assert exported(deployed, "audit-xes", status="completed", **pb_cases).count("<trace>") == 1
    assert exported(deployed, "audit-xes", von="2026-03-02", bis="2026-03-02", **pb_cases).count("<trace>") == 2
    assert exported(deployed, "audit-xes", von="2026-03-03", **pb_cases).count("<trace>") == 0
    assert exported(deployed, "audit-xes", prozess="gibt_es_nicht").count("<trace>") == 0
    assert exported(deployed, "audit-xes", version="1", **pb_cases).count("<trace>") == 2
    with deployed.db.reading() as session:
        details = [
            e.details
            for e in session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id))
        ]
    assert details[0] == {"export": "audit-xes", "parameters": {"standort": "56.6", "prozess": pb.PROCESS}, "rows": 1,
                          "format": "xes"}  # fmt: skip
    assert [d["rows"] for d in details] == [1, 1, 2, 0, 0, 2]


@pytest.mark.parametrize(
    ("parameters", "field"),
    [({"status": "offen"}, "status"), ({"von": "02.03.2026"}, "von"), ({"bis": "2026-13-01"}, "bis"),
     ({"version": "eins"}, "version"), ({"kennwort": "x"}, "kennwort")],
)  # fmt: skip
def test_invalid_filters_are_refused_with_the_field(deployed: Engine, parameters: dict[str, str], field: str) -> None:
    with pytest.raises(FormValidationError) as refused:
        deployed.export(deployed.actor("audit"), "audit-csv", parameters)
    assert list(refused.value.field_errors) == [field]


@pytest.mark.parametrize("username", ["egs", "tl", "fdl", "modeller", "fb50"])
@pytest.mark.parametrize("name", ["audit-csv", "audit-xes"])
def test_only_the_audit_function_exports_cases(deployed: Engine, username: str, name: str) -> None:
    with pytest.raises(PermissionDeniedError):
        deployed.export(deployed.actor(username), name, {})
    with deployed.db.reading() as session:
        refusal = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "access_denied")).one()
    assert refusal.actor == username and refusal.details["operation"] == f"export:{name}"


def test_an_auditor_of_one_site_exports_only_that_site(deployed: Engine, make_user: UserFactory) -> None:
    main_path_case(deployed)
    with at(500):
        deployed.start_case(deployed.actor("egs566"), pb.PROCESS, site="56.6")
    auditor = make_user("pruefer566", ("AUDIT", "56.6"))
    result = deployed.export(auditor, "audit-xes", {})
    text = "".join(deployed.export_chunks(result))
    assert result.rows == 1 and text.count("<trace>") == 1 and 'value="56.6"' in text
    assert (
        "".join(deployed.export_chunks(deployed.export(auditor, "audit-xes", {"standort": "56.4"}))).count("<trace>")
        == 0
    )


def test_the_command_line_writes_the_xes_to_a_file(deployed: Engine, db_url: str, tmp_path: Path) -> None:
    main_path_case(deployed)
    target = tmp_path / "log.xes"
    written = run(db_url, "export", "audit-xes", "--output", str(target), f"prozess={pb.PROCESS}")
    assert written.exit_code == 0, written.output
    assert "1 Zeile(n) nach" in written.output
    document = etree.parse(str(target))
    assert xes_schema().validate(document) and len(document.findall("trace")) == 1
    listing = run(db_url, "export", "audit-csv", f"prozess={pb.PROCESS}", "status=completed")
    assert listing.exit_code == 0 and listing.output.count("\n") == 31
    refused = run(db_url, "export", "audit-csv", "status=offen")
    assert refused.exit_code == 2 and "Bitte einen dieser Status angeben" in refused.output
    with deployed.db.reading() as session:
        records = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
        ).all()
    assert [(r.details["export"], r.details["parameters"]) for r in records] == [
        ("audit-xes", {"prozess": pb.PROCESS}),
        ("audit-csv", {"prozess": pb.PROCESS, "status": "completed"}),
    ]
