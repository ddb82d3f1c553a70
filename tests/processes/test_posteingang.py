"""Path tests: Post- und Schriftverkehr, Posteingang (Konzept Ziffer 4.2) – Zuordnung an Team, Antrag oder Akte."""

from __future__ import annotations

import pytest

from engine.api import Engine
from engine.errors import FormValidationError, RuleViolationError
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.records import aktionen, alle_faelle, faelle, nachrichten

PROCESS = "posteingang"
ERFASSEN = "Posteingang erfassen und zuordnen"
BEARBEITEN = "Post bearbeiten"


def post(heute: str, **werte: object) -> dict:
    return {
        "eingang_am": heute,
        "absender": "Amtsgericht Göttingen",
        "postart": "brief",
        "betreff": "Unterhaltstitel",
        "zustaendig": "LSB",
        "weiterbehandlung": "bearbeitung",
        **werte,
    }


def eingang(engine: Engine) -> tuple[CaseDriver, str]:
    case = CaseDriver(engine, PROCESS)
    return case, case.data["gestartet_am"]


@pytest.mark.parametrize(("team", "benutzer"), [("LSB", "lsb"), ("IFK", "ifk"), ("EGS", "egs")])
def test_post_geht_in_den_eingang_des_zustaendigen_teams(deployed: Engine, team: str, benutzer: str) -> None:
    case, heute = eingang(deployed)
    case.complete(ERFASSEN, post(heute, zustaendig=team))
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(BEARBEITEN, team)]
    postfaecher = {u: [t.name for t in deployed.inbox(deployed.actor(u))] for u in ("egs", "lsb", "ifk")}
    assert postfaecher[benutzer] == [BEARBEITEN]
    assert all(not tasks for u, tasks in postfaecher.items() if u != benutzer), "nur das zuständige Team"
    case.complete(BEARBEITEN, {"erledigung": "beantwortet", "erledigt_am": heute})
    assert case.status == "completed"
    assert case.data["eingang_am"] == heute


def test_zur_akte_startet_die_zuarbeit_zur_aktenfuehrung(deployed: Engine) -> None:
    case, heute = eingang(deployed)
    with pytest.raises(FormValidationError) as refused:
        case.complete(ERFASSEN, post(heute, weiterbehandlung="zur_akte"))
    assert set(refused.value.field_errors) == {"bezug_vorgangsnummer", "akte"}
    case.complete(ERFASSEN, post(heute, weiterbehandlung="zur_akte", bezug_vorgangsnummer="VG-2025-000017",
                                 akte="ifk_akte", zustaendig="IFK"))  # fmt: skip
    assert case.status == "completed"
    [akte] = faelle(deployed, "akten_zuarbeit")
    zuarbeit = CaseDriver.existing(deployed, akte.id)
    assert zuarbeit.data["zuarbeit"] == {
        "akte_vorgangsnummer": "VG-2025-000017",
        "akte": "ifk_akte",
        "schriftstueck": "Unterhaltstitel",
        "eingang_am": heute,
    }
    assert zuarbeit.open_task_names() == ["In die Papierakte einheften"]


def test_unterlagen_ohne_wartenden_antrag_werden_nicht_angenommen(deployed: Engine) -> None:
    case, heute = eingang(deployed)
    vorher = alle_faelle(deployed)
    daten = post(heute, weiterbehandlung="angeforderte_unterlagen", bezug_vorgangsnummer="07402//0000001",
                 dokumente_text="Kontoauszüge Mai 2025\nMietvertrag")  # fmt: skip
    with pytest.raises(RuleViolationError, match="kann nicht zugestellt werden: kein offener Vorgang 07402//0000001"):
        case.complete(ERFASSEN, daten)
    assert case.open_task_names() == [ERFASSEN], "der Eingang bleibt offen; die Sachbearbeitung wählt neu"
    assert alle_faelle(deployed) == vorher
    assert aktionen(deployed, case.instance_id)[-1] == "rule_violation"
    case.complete(ERFASSEN, {**daten, "weiterbehandlung": "zur_akte", "akte": "leistungsakte"})
    assert case.status == "completed"


def test_eingangsdatum_und_pflichtangaben(deployed: Engine) -> None:
    case, heute = eingang(deployed)
    with pytest.raises(FormValidationError) as refused:
        case.complete(ERFASSEN, post("2999-12-31", weiterbehandlung="angeforderte_unterlagen"))
    assert set(refused.value.field_errors) == {"eingang_am", "bezug_vorgangsnummer", "dokumente_text"}
    with pytest.raises(FormValidationError) as refused:
        case.complete(ERFASSEN, post(heute, bezug_vorgangsnummer="4711"))
    assert list(refused.value.field_errors) == ["bezug_vorgangsnummer"]
    assert case.open_task_names() == [ERFASSEN]


def test_angeforderte_unterlagen_gehen_an_den_wartenden_antrag(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    antrag = deployed.start_case(egs, pb.PROCESS)
    pb.walk_to_documents_requested(deployed, egs, antrag.instance_id)
    case, heute = eingang(deployed)
    case.complete(
        ERFASSEN,
        post(heute, weiterbehandlung="angeforderte_unterlagen", bezug_vorgangsnummer=antrag.business_key,
             dokumente_text="Kontoauszüge Januar 2025"),
    )  # fmt: skip
    assert case.status == "completed"
    assert nachrichten(deployed, antrag.instance_id) == [
        {"vorgangsnummer": antrag.business_key, "dokumente": ["Kontoauszüge Januar 2025"], "eingang_am": heute}
    ]
    assert pb.EINGANG_ERFASSEN not in CaseDriver.existing(deployed, antrag.instance_id).open_task_names()
