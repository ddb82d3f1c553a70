"""Decision tables (DMN) edited by process owners: versions, drafts checked like uploads, locked, audited, and a
deploy after which the next case decides by the new table while running cases keep theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import clock
from engine.api import Engine
from engine.decision_check import check_dmn, decision_ids
from engine.errors import ConflictError, FormValidationError, ModelError, NotFoundError, PermissionDeniedError
from engine.model_lint import ModelLintError
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.records import audit_events, case_row

AKTE = "umstellung_akte.dmn"
PROCESS = "akten_zuarbeit"
HEUTE = "2025-06-02T09:30:00+02:00"
RECORD = {"akte_vorgangsnummer": "07402//0094744", "akte": "leistungsakte", "schriftstueck": "Mietvertrag",
          "eingang_am": "2025-06-02"}  # fmt: skip
PAPER, SCAN = "In die Papierakte einheften", "Scannen und in die E-Akte übernehmen"
DOXIS_SET = 'konfig("umstellung.doxis_start") not in ("", None)'

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + ']>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">&lol9;</definitions>'
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/hostname">]>\n'
    '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">&e;</definitions>'
)


def doxis_from(xml: str, day: str) -> str:
    """The table with the Doxis start written into it: "Einführungstermin festgelegt" becomes a date comparison."""
    assert DOXIS_SET in xml
    return xml.replace(DOXIS_SET, f'stichtag &gt;= "{day}"')


def recorded(engine: Engine) -> CaseDriver:
    case = CaseDriver(engine, PROCESS)
    case.complete("Schriftstück erfassen", RECORD)
    return case


def table(engine: Engine, filename: str = AKTE):  # type: ignore[no-untyped-def]
    return next(t for t in engine.decision_tables(engine.actor("modeller")) if t.filename == filename)


def test_the_tables_are_listed_with_their_live_version_and_the_processes_that_use_them(deployed: Engine) -> None:
    tables = {t.filename: t for t in deployed.decision_tables(deployed.actor("modeller"))}
    assert set(tables) == {f"umstellung_{n}.dmn" for n in ("akte", "ifk_neu", "neuanlage", "phase", "zahlungssystem")}
    akte = tables[AKTE]
    assert (akte.name, akte.decision_ids, akte.live.version, akte.older) == (
        "Aktenführung Papier oder e-Akte Doxis (Konzept § 1)",
        ("umstellung_akte",),
        1,
        (),
    )
    assert {(u.process_id, u.version, u.decisions) for u in akte.used_by} == {
        (pb.PROCESS, 1, ("umstellung_akte",)),
        (PROCESS, 1, ("umstellung_akte",)),
    }
    assert tables["umstellung_phase.dmn"].used_by == (), "a table no process calls is still versioned"
    with pytest.raises(PermissionDeniedError):
        deployed.decision_tables(deployed.actor("egs"))
    with pytest.raises(PermissionDeniedError):
        deployed.create_decision_draft(deployed.actor("egs"), AKTE)
    with pytest.raises(NotFoundError):
        deployed.create_decision_draft(deployed.actor("modeller"), "gibt_es_nicht.dmn")


def test_a_draft_saves_with_a_new_lock_version_and_a_stale_save_is_refused(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_decision_draft(modeller, AKTE)
    assert (draft.kind, draft.filename, draft.base_version, draft.lock_version) == ("dmn", AKTE, 1, 1)
    changed = doxis_from(draft.xml, "2025-07-01")
    assert deployed.save_decision_draft(modeller, draft.id, 1, xml=changed).lock_version == 2
    with pytest.raises(ConflictError) as caught:
        deployed.save_decision_draft(modeller, draft.id, 1, xml=draft.xml)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert deployed.decision_draft(modeller, draft.id).xml == changed, "the newer save is kept"
    events = [
        (e.action, e.process_id, e.details.get("decision_file")) for e in audit_events(deployed, actor="modeller")
    ]
    assert events == [("model_draft_created", None, AKTE), ("model_draft_saved", None, AKTE), ("conflict", None, None)]
    assert [d.id for d in table(deployed).drafts] == [draft.id]
    assert all(e.drafts == () for e in deployed.model_catalogue(modeller)), "not listed as a process draft"
    with pytest.raises(NotFoundError):  # a table draft is no process draft (modeller, Probelauf, diff)
        deployed.model_draft(modeller, draft.id)
    with pytest.raises(NotFoundError):
        deployed.save_model_draft(modeller, draft.id, 2, xml=changed)
    process_draft = deployed.create_model_draft(modeller, pb.PROCESS)
    with pytest.raises(NotFoundError):
        deployed.decision_draft(modeller, process_draft.id)


def hostile(label: str, live: str) -> str:
    if label == "zu groß":
        return live.replace("</definitions>", "<!--" + "x" * 6_000_000 + "--></definitions>")
    if label == "BPMN statt DMN":
        return Path("processes/akten_zuarbeit.bpmn").read_text(encoding="utf-8")
    if label == "Tippfehler in einer Zelle":
        return live.replace('<text>"eakte"</text>', '<text>"eakte</text>')
    if label == "FEEL-Datum":
        return live.replace(DOXIS_SET, 'stichtag &gt;= date("2025-07-01")').replace(
            "<text>True</text>", "<text>true</text>"
        )
    if label == "Trefferregel ANY":
        return live.replace('hitPolicy="FIRST"', 'hitPolicy="ANY"')
    if label == "zwei Entscheidungen":
        decision = live[live.index("<decision ") : live.index("</decision>") + len("</decision>")]
        return live.replace("</definitions>", decision.replace('id="', 'id="x_') + "</definitions>")
    return {"Billion Laughs": BILLION_LAUGHS, "XXE": XXE, "kein XML": "<definitions", "leer": " "}[label]


@pytest.mark.parametrize("label", ["Billion Laughs", "XXE", "zu groß", "kein XML", "leer", "BPMN statt DMN",
                                   "Tippfehler in einer Zelle", "FEEL-Datum", "Trefferregel ANY",
                                   "zwei Entscheidungen"])  # fmt: skip
def test_a_hostile_or_broken_table_is_refused_in_german_and_nothing_is_lost(deployed: Engine, label: str) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_decision_draft(modeller, AKTE)
    with pytest.raises(ModelError) as refused:
        deployed.save_decision_draft(modeller, draft.id, 1, xml=hostile(label, draft.xml))
    problems = getattr(refused.value, "problems", [refused.value])
    assert all(p.detail and "Traceback" not in p.detail for p in problems)
    after = deployed.decision_draft(modeller, draft.id)
    assert (after.xml, after.lock_version) == (draft.xml, 1)
    assert audit_events(deployed, "model_draft_saved") == []


def test_the_cells_are_named_in_the_refusal(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_decision_draft(modeller, AKTE)
    with pytest.raises(ModelLintError) as refused:
        deployed.save_decision_draft(modeller, draft.id, 1, xml=hostile("FEEL-Datum", draft.xml))
    messages = [p.detail for p in refused.value.problems]
    assert any("Regel 2: Die Bedingung „true“ verwendet true (FEEL-Schreibweise)" in m for m in messages), messages
    assert any(
        m.startswith('Der Eingabeausdruck „stichtag >= date("2025-07-01")“ ist FEEL-Schreibweise') for m in messages
    )
    match_none = draft.xml.replace('<text>"eakte"</text>', '<text>"e-akte"</text>').replace(
        '<inputEntry id="InputEntry_umstellung_akte_4_1"><text>-</text>',
        '<inputEntry id="InputEntry_umstellung_akte_4_1"><text>not("x")</text>',
    )
    with pytest.raises(ModelLintError) as refused:
        deployed.save_decision_draft(modeller, draft.id, 1, xml=match_none)
    assert [p.detail[:40] for p in refused.value.problems] == ['Regel 4: Die Bedingung „not("x")“ ist FE']
    two_values = draft.xml.replace('<text>"eakte"</text>', '<text>"eakte"</text>').replace(
        '<inputEntry id="InputEntry_umstellung_akte_4_1"><text>-</text>',
        '<inputEntry id="InputEntry_umstellung_akte_4_1"><text>"a","b"</text>',
    )
    with pytest.raises(ModelLintError) as refused:
        deployed.save_decision_draft(modeller, draft.id, 1, xml=two_values)
    assert [p.detail for p in refused.value.problems] == [
        'Regel 4: Die Bedingung „"a","b"“ nennt mehrere Werte ohne Klammern; bitte in ("a", "b") schreiben.'
    ]
    in_values = two_values.replace('<text>"a","b"</text>', '<text>in ("a", "b")</text>')
    assert deployed.save_decision_draft(modeller, draft.id, 1, xml=in_values).lock_version == 2


def test_the_next_case_decides_by_the_new_date_and_a_running_case_keeps_its_table(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    with clock.frozen(clock.parse_iso(HEUTE)):
        older = CaseDriver(deployed, PROCESS)
        assert recorded(deployed).open_task_names() == [PAPER], "no Doxis start yet: paper"
        draft = deployed.create_decision_draft(modeller, AKTE)
        saved = deployed.save_decision_draft(modeller, draft.id, 1, xml=doxis_from(draft.xml, "2025-06-02"))
        with pytest.raises(FormValidationError):
            deployed.deploy_decision_draft(modeller, draft.id, saved.lock_version, "  ")
        result = deployed.deploy_decision_draft(modeller, draft.id, saved.lock_version, "Doxis ab 02.06.2025")
        assert (result.filename, result.version, result.created) == (AKTE, 2, True)
        assert {(p.process_id, p.version) for p in result.processes} == {(pb.PROCESS, 2), (PROCESS, 2)}

        newer = recorded(deployed)
        assert newer.open_task_names() == [SCAN], "the next case decides by the new date"
        older.complete("Schriftstück erfassen", RECORD)
        assert older.open_task_names() == [PAPER], "a case started before keeps the table of its version"
    assert case_row(deployed, newer.instance_id).version_id != case_row(deployed, older.instance_id).version_id

    entry = table(deployed)
    assert (entry.live.version, entry.live.comment, [v.version for v in entry.older], entry.drafts) == (
        2,
        "Doxis ab 02.06.2025",
        [1],
        (),
    )
    process = next(e for e in deployed.model_catalogue(modeller) if e.process_id == PROCESS)
    assert process.live.comment == "Entscheidungstabelle umstellung_akte.dmn, Version 2: Doxis ab 02.06.2025"
    [deployed_event] = audit_events(deployed, "decision_deployed", "modeller")
    assert deployed_event.details["decision_file"] == AKTE and deployed_event.details["version"] == 2
    assert {e.process_id for e in audit_events(deployed, "deploy") if e.actor == "modeller"} == {pb.PROCESS, PROCESS}
    [gone] = audit_events(deployed, "model_draft_deployed")
    assert gone.details["diff"] == {"processes": {pb.PROCESS: 2, PROCESS: 2}}
    with pytest.raises(NotFoundError):
        deployed.decision_draft(modeller, draft.id)


def test_a_decision_id_that_deployed_processes_call_may_not_disappear(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_decision_draft(modeller, AKTE)
    renamed = draft.xml.replace('<decision id="umstellung_akte"', '<decision id="umstellung_aktenfuehrung"')
    saved = deployed.save_decision_draft(modeller, draft.id, 1, xml=renamed)  # a draft may hold it …
    with pytest.raises(ModelLintError) as refused:  # … but it is not deployed
        deployed.deploy_decision_draft(modeller, draft.id, saved.lock_version, "Neue ID")
    messages = sorted(p.detail for p in refused.value.problems)
    assert len(messages) == 2 and all("Die Entscheidung 'umstellung_akte' fehlt in der Tabelle" in m for m in messages)
    assert any("„Zuarbeit bei der Führung der Leistungs- und IFK-Akten“ (Version 1)" in m for m in messages)
    assert (table(deployed).live.version, audit_events(deployed, "decision_deployed", "modeller")) == (1, [])
    assert deployed.decision_draft(modeller, draft.id).lock_version == saved.lock_version, "the draft is kept"


def test_an_output_a_process_reads_cannot_be_renamed_silently(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_decision_draft(modeller, AKTE)
    renamed = draft.xml.replace('name="aktenfuehrung"', 'name="aktenart"')
    saved = deployed.save_decision_draft(modeller, draft.id, 1, xml=renamed)
    with pytest.raises(ModelLintError) as refused:  # the process's gateway reads aktenfuehrung: the server lint
        deployed.deploy_decision_draft(modeller, draft.id, saved.lock_version, "Ausgabe umbenannt")
    assert any("aktenfuehrung" in p.detail for p in refused.value.problems)
    assert table(deployed).live.version == 1


def test_stale_or_unchanged_deploys_and_a_draft_on_an_older_version(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    first = deployed.create_decision_draft(modeller, "umstellung_phase.dmn")
    second = deployed.create_decision_draft(modeller, "umstellung_phase.dmn")
    unchanged = deployed.deploy_decision_draft(modeller, first.id, 1, "Nichts geändert")
    assert (unchanged.version, unchanged.created) == (1, False)
    assert deployed.decision_draft(modeller, first.id).lock_version == 1, "an unchanged deploy keeps the draft"
    changed = first.xml.replace("Auffangregel: nach dem Parallelbetrieb", "Auffangregel")
    deployed.save_decision_draft(modeller, first.id, 1, xml=changed)
    with pytest.raises(ConflictError):
        deployed.deploy_decision_draft(modeller, first.id, 1, "veraltet")
    result = deployed.deploy_decision_draft(modeller, first.id, 2, "Beschreibung gekürzt")
    assert (result.version, result.created, result.processes) == (2, True, ()), "no process calls it"
    deployed.save_decision_draft(modeller, second.id, 1, xml=changed.replace("Auffangregel", "Sonst"))
    with pytest.raises(ConflictError) as caught:
        deployed.deploy_decision_draft(modeller, second.id, 2, "auf Version 1")
    assert "live ist inzwischen Version 2" in caught.value.args[0]
    with pytest.raises(PermissionDeniedError):
        deployed.deploy_decision_draft(deployed.actor("egs"), second.id, 2, "kein Recht")


def test_a_deploy_of_the_files_on_disk_is_a_new_version_of_each_changed_table(deployed: Engine) -> None:
    """``egs deploy processes/`` after a change in the browser: the table on disk goes live again, versioned."""
    modeller = deployed.actor("modeller")
    draft = deployed.create_decision_draft(modeller, AKTE)
    saved = deployed.save_decision_draft(modeller, draft.id, 1, xml=doxis_from(draft.xml, "2025-06-02"))
    deployed.deploy_decision_draft(modeller, draft.id, saved.lock_version, "Doxis ab 02.06.2025")
    deployed.deploy_paths([Path("processes")], modeller)
    tables = {t.filename: t.live.version for t in deployed.decision_tables(modeller)}
    assert tables[AKTE] == 3 and tables["umstellung_phase.dmn"] == 1


def test_a_process_draft_started_before_a_table_deploy_still_deploys_and_keeps_the_new_table(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    process_draft = deployed.create_model_draft(modeller, PROCESS)  # on version 1
    renamed = process_draft.xml.replace('name="In die Papierakte einheften"', 'name="In die Papierakte heften"')
    saved = deployed.save_model_draft(modeller, process_draft.id, 1, xml=renamed)
    draft = deployed.create_decision_draft(modeller, AKTE)
    table_saved = deployed.save_decision_draft(modeller, draft.id, 1, xml=doxis_from(draft.xml, "2025-06-02"))
    deployed.deploy_decision_draft(modeller, draft.id, table_saved.lock_version, "Doxis ab 02.06.2025")  # version 2
    result = deployed.deploy_model_draft(modeller, process_draft.id, saved.lock_version, "Kürzerer Name")
    assert (result.version, result.created) == (3, True), "only the table changed since its base: no conflict"
    version = deployed.version_diagram(modeller, PROCESS, 3)
    assert 'name="In die Papierakte heften"' in version.xml
    with clock.frozen(clock.parse_iso(HEUTE)):
        assert recorded(deployed).open_task_names() == [SCAN], "version 3 keeps the new table"

    stale = deployed.create_model_draft(modeller, PROCESS)  # on version 3
    other = deployed.create_model_draft(modeller, PROCESS)
    deployed.save_model_draft(modeller, other.id, 1, xml=other.xml.replace("Papierakte heften", "Akte heften"))
    deployed.deploy_model_draft(modeller, other.id, 2, "Noch kürzer")  # version 4 changes the BPMN
    deployed.save_model_draft(modeller, stale.id, 1, xml=stale.xml.replace("Papierakte heften", "Ordner heften"))
    with pytest.raises(ConflictError):
        deployed.deploy_model_draft(modeller, stale.id, 2, "Würde Version 4 zurücknehmen")


@pytest.mark.parametrize("path", sorted(Path("processes").glob("*.dmn")), ids=lambda p: p.name)
def test_every_shipped_table_passes_the_editor_check(path: Path) -> None:
    assert decision_ids(check_dmn(path.read_text(encoding="utf-8"), path.name, 5_242_880)) == {path.stem}
