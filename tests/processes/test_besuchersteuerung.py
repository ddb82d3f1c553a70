"""Path tests: Zentrale Besuchersteuerung und Anmeldung (Konzept Ziffer 4.2, 4.3 Termine, 5 FB 50, 7 Besetzung)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, PermissionDeniedError, RuleViolationError
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.engines import engine_with_config
from tests.support.records import aktionen, alle_faelle, faelle, nachrichten
from tests.support.users import user_for

PROCESS = "besuchersteuerung"
ANMELDEN = "Besucher anmelden und Anliegen einordnen"
AUFRUFEN = "Besucher aufrufen"
WARTEZEIT = "Wartesituation prüfen und Personal umsteuern"
VERWEISEN = "An das Sozialamt verweisen"
UNTERLAGEN = "Unterlagen entgegennehmen und zuordnen"
TERMIN = "Termin wahrnehmen und dokumentieren"
FRAGE = "Frage beantworten oder weiterleiten"
RUECKFRAGE = "Anfrage eines Besuchers beantworten"
ANKUNFT = clock.parse_iso("2025-03-04T08:15:00+01:00")
PERSON = {"vorname": "Mira", "nachname": "Hollenstedt"}


def angemeldet(engine: Engine, anliegen: str, site: str = "56.4", **werte: object) -> CaseDriver:
    """A visitor registered with ``anliegen`` at ``site`` (the clock stands at ANKUNFT)."""
    case = CaseDriver(engine, PROCESS, site=site)
    case.complete(ANMELDEN, {**PERSON, "anliegen": anliegen, **werte})
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(AUFRUFEN, "EGS")]
    return case


def aufgerufen(engine: Engine, anliegen: str, site: str = "56.4", anwesend: bool = True, **werte: object):  # type: ignore[no-untyped-def]
    case = angemeldet(engine, anliegen, site, **werte)
    case.complete(AUFRUFEN, {"besucher_anwesend": anwesend, "platz": "Schalter 2"})
    return case


def test_frage_wird_vom_eingangsservice_beantwortet(deployed: Engine) -> None:
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, "frage", anliegen_text="Wann kommt die Zahlung für März?")
        assert case.data["angemeldet_am"] == "2025-03-04T08:15:00+01:00"
        with pytest.raises(FormValidationError) as refused:
            case.complete(FRAGE, {"erledigung": "beantwortet"})
        assert list(refused.value.field_errors) == ["antwort"]
        case.complete(FRAGE, {"erledigung": "beantwortet", "antwort": "Zahlung ist zum 1. des Monats angewiesen."})
    assert case.status == "completed"
    assert case.fire_timers(at=ANKUNFT + timedelta(hours=2)) == 0, "aufgerufen vor Ablauf: keine Meldung an die FDL"


@pytest.mark.parametrize(("weiter", "team", "benutzer"), [("lsb", "LSB", "lsb"), ("ifk", "IFK", "ifk")])
def test_frage_wird_an_lsb_oder_ifk_weitergeleitet(deployed: Engine, weiter: str, team: str, benutzer: str) -> None:
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, "frage", anliegen_text="Frage zur Anrechnung des Minijobs")
        with pytest.raises(FormValidationError) as refused:
            case.complete(FRAGE, {"erledigung": weiter})
        assert list(refused.value.field_errors) == ["weiterleitung_grund"]
        case.complete(FRAGE, {"erledigung": weiter, "weiterleitung_grund": "Rückruf erbeten: 0551 000000"})
        assert [(t.name, t.lane) for t in case.open_tasks()] == [(RUECKFRAGE, team)]
        assert [t.name for t in deployed.inbox(deployed.actor(benutzer))] == [RUECKFRAGE]
        with pytest.raises(PermissionDeniedError):
            case.complete(RUECKFRAGE, {}, as_user="egs")
        case.complete(
            RUECKFRAGE,
            {
                "antwort_fachkraft": "Freibetrag erläutert",
                "rueckmeldung_art": "telefonisch",
                "rueckmeldung_am": "2025-03-04",
            },
        )
    assert case.status == "completed"


def test_termin_des_egs_wird_im_leistungsfall_dokumentiert(deployed: Engine) -> None:
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, "termin")
    with clock.frozen(ANKUNFT + timedelta(hours=1)):
        termin = {
            "bezug_vorgangsnummer": "07402//0094744",
            "terminart": "erstberatung",
            "termin_am": "2025-03-04T08:30:00+01:00",
            "termin_wahrgenommen": True,
            "ergebnis": "Antragsunterlagen ausgehändigt und erläutert",
        }
        with pytest.raises(FormValidationError) as refused:
            case.complete(TERMIN, {**termin, "termin_am": "2025-03-04T09:30:00+01:00"})
        assert list(refused.value.field_errors) == ["termin_am"], "dokumentiert wird, was stattgefunden hat"
        case.complete(TERMIN, {**termin, "folgetermin_am": "2025-03-18T10:00:00+01:00"})
    assert case.status == "completed"
    assert case.data["terminart"] == "erstberatung" and case.data["bezug_vorgangsnummer"] == "07402//0094744"


@pytest.mark.parametrize("anliegen", ["frage", "termin", "unterlagen"])
def test_nicht_mehr_anwesender_besucher_ohne_antrag(deployed: Engine, anliegen: str) -> None:
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, anliegen, anwesend=False, anliegen_text="Auskunft")
    assert case.status == "completed"
    assert case.open_task_names() == []


def test_lange_wartezeit_wird_der_fachdienstleitung_gemeldet(deployed: Engine) -> None:
    with clock.frozen(ANKUNFT):
        case = angemeldet(deployed, "frage", anliegen_text="Bescheid unklar")
    assert case.fire_timers(at=ANKUNFT + timedelta(minutes=29)) == 0
    assert case.fire_timers(at=ANKUNFT + timedelta(minutes=31)) == 1
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(AUFRUFEN, "EGS"), (WARTEZEIT, "FDL")]
    assert [t.name for t in deployed.inbox(deployed.actor("fdl"))] == [WARTEZEIT]
    assert case.fire_timers(at=ANKUNFT + timedelta(hours=3)) == 0, "die Meldung kommt nur einmal"
    with clock.frozen(ANKUNFT + timedelta(minutes=40)):
        case.complete(AUFRUFEN, {"besucher_anwesend": True})
        case.complete(FRAGE, {"erledigung": "beantwortet", "antwort": "Bescheid erläutert"})
        assert case.status == "running", "die Meldung an die FDL ist noch offen"
        with pytest.raises(FormValidationError):
            case.complete(WARTEZEIT, {"massnahme": "keine"})
        case.complete(WARTEZEIT, {"massnahme": "umsteuerung_lsb", "bemerkung_fdl": "Frau Anders (LSB) bis 12 Uhr"})
    assert case.status == "completed"
    assert "timer_fired" in aktionen(deployed, case.instance_id)


def test_fb50_anliegen_an_standort_ohne_fb50_wird_verwiesen(deployed: Engine) -> None:
    assert "56.4" not in deployed.konfig.get("standorte.fb50")
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, "fb50", fb50_stichwort="Grundsicherung im Alter")
        assert [(t.name, t.lane) for t in case.open_tasks()] == [(VERWEISEN, "EGS")]
        with pytest.raises(FormValidationError):
            case.complete(VERWEISEN, {"verweisart": "antrag_weitergeleitet"})
        case.complete(VERWEISEN, {"verweisart": "antrag_weitergeleitet", "weitergeleitet_am": "2025-03-04"})
    assert case.status == "completed"
    assert alle_faelle(deployed) == 1, "kein Vorgang für FB 50 an 56.4"


def test_fb50_anliegen_geht_an_standorten_mit_fb50_an_das_sozialamt(deployed: Engine) -> None:
    assert "56.6" in deployed.konfig.get("standorte.fb50")
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, "fb50", site="56.6", fb50_stichwort="Hilfe zum Lebensunterhalt nach dem SGB XII")
    assert case.status == "completed"
    [row] = faelle(deployed, "fb50_eingangsservice")
    fb50 = CaseDriver.existing(deployed, row.id)
    assert (fb50.site, fb50.data["bezugsvorgang"]) == ("56.6", case.header.business_key)
    assert fb50.data["besuch"] == {
        "vorname": "Mira",
        "nachname": "Hollenstedt",
        "anliegen_text": "Hilfe zum Lebensunterhalt nach dem SGB XII",
        "kenntnis_am": "2025-03-04T08:15:00+01:00",
    }, "Kenntnis (§ 18 SGB XII) = Zeitpunkt der Anmeldung"
    assert "fb50_stichwort" not in case.data, "SGB-XII-Angaben bleiben nicht im Besuchervorgang (Datentrennung)"
    # The registration step's history keeps the keyword – visible to EGS, hidden from LSB/IFK/FDL at the site.
    lsb_view = deployed.case_view(user_for(deployed, "LSB", "56.6"), case.instance_id)
    [anmeldung] = [h for h in lsb_view.history if h.task_name == ANMELDEN]
    assert "fb50_stichwort" not in anmeldung.details["data"] and anmeldung.details["verborgen"] == 1
    egs_view = deployed.case_view(user_for(deployed, "EGS", "56.6"), case.instance_id)
    [anmeldung] = [h for h in egs_view.history if h.task_name == ANMELDEN]
    assert anmeldung.details["data"]["fb50_stichwort"] == "Hilfe zum Lebensunterhalt nach dem SGB XII"
    assert case.data["an_fb50_uebergeben"] is True
    assert faelle(deployed, "pb_antragsannahme") == []


def test_unterlagen_zur_akte(deployed: Engine) -> None:
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, "unterlagen")
        case.complete(
            UNTERLAGEN,
            {
                "bezug_vorgangsnummer": "07402//0094744",
                "dokumente_text": "Lohnabrechnung Februar 2025",
                "eingang_am": "2025-03-04",
                "zuordnung": "zur_akte",
                "akte": "leistungsakte",
                "eingangsbestaetigung": True,
            },
        )
    assert case.status == "completed"
    [akte] = faelle(deployed, "akten_zuarbeit")
    zuarbeit = CaseDriver.existing(deployed, akte.id)
    assert zuarbeit.data["bezugsvorgang"] == case.header.business_key
    assert zuarbeit.data["schriftstueck"] == "Lohnabrechnung Februar 2025"


def test_unterlagen_ohne_wartenden_antrag_werden_nicht_zugeordnet(deployed: Engine) -> None:
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, "unterlagen")
        daten = {
            "bezug_vorgangsnummer": "VG-2025-999999",
            "dokumente_text": "Kontoauszüge Januar 2025",
            "eingang_am": "2025-03-04",
            "zuordnung": "angeforderte_unterlagen",
        }
        with pytest.raises(RuleViolationError, match="kein offener Vorgang VG-2025-999999 wartet darauf"):
            case.complete(UNTERLAGEN, daten)
        assert case.open_task_names() == [UNTERLAGEN]
        assert alle_faelle(deployed) == 1
        with pytest.raises(FormValidationError) as refused:
            case.complete(UNTERLAGEN, {**daten, "zuordnung": "zur_akte"})
        assert list(refused.value.field_errors) == ["akte"]


def test_anmeldung_prueft_pflichtangaben_je_anliegen(deployed: Engine) -> None:
    with clock.frozen(ANKUNFT):
        case = CaseDriver(deployed, PROCESS)
        with pytest.raises(FormValidationError) as refused:
            case.complete(ANMELDEN, {**PERSON, "anliegen": "erstantrag"})
        assert set(refused.value.field_errors) == {"geburtsdatum", "tag_der_antragstellung"}
        with pytest.raises(FormValidationError) as refused:
            case.complete(ANMELDEN, {**PERSON, "anliegen": "erstantrag", "geburtsdatum": "1985-07-01",
                                     "tag_der_antragstellung": "2025-03-05"})  # fmt: skip
        assert list(refused.value.field_errors) == ["tag_der_antragstellung"], "nicht in der Zukunft"
        with pytest.raises(FormValidationError) as refused:
            case.complete(ANMELDEN, {**PERSON, "anliegen": "fb50"})
        assert list(refused.value.field_errors) == ["fb50_stichwort"]
        with pytest.raises(FormValidationError) as refused:
            case.complete(ANMELDEN, {**PERSON, "anliegen": "frage"})
        assert list(refused.value.field_errors) == ["anliegen_text"]
        assert case.open_task_names() == [ANMELDEN]


def test_fb50_standorte_kommen_aus_der_konfiguration(deployed: Engine, db_url: str, tmp_path: Path) -> None:
    """Wrongly configured as an FB 50 site, 56.4 tries to send – and the engine refuses: nothing is stored."""
    with engine_with_config(db_url, tmp_path, fb50='["56.4", "56.6", "56.7", "56.8"]') as engine:
        with clock.frozen(ANKUNFT):
            case = angemeldet(engine, "fb50", fb50_stichwort="Hilfe zur Pflege")
            with pytest.raises(RuleViolationError, match="wird am Standort 56.4 nicht angeboten"):
                case.complete(AUFRUFEN, {"besucher_anwesend": True})
        assert case.open_task_names() == [AUFRUFEN]
        assert alle_faelle(engine) == 1


# --- Paths into the processes of the other modellers (PB Antragsannahme, FB 50 intake) --------------------------


def test_antrag_startet_die_antragsannahme(deployed: Engine) -> None:
    with clock.frozen(ANKUNFT):
        case = aufgerufen(deployed, "erstantrag", geburtsdatum="1985-07-01", tag_der_antragstellung="2025-03-04")
    assert case.status == "completed"
    [row] = faelle(deployed, "pb_antragsannahme")
    antrag = CaseDriver.existing(deployed, row.id)
    assert (antrag.site, antrag.data["bezugsvorgang"]) == ("56.4", case.header.business_key)
    assert antrag.data["besuch"] == {
        "vorname": "Mira",
        "nachname": "Hollenstedt",
        "geburtsdatum": "1985-07-01",
        "anliegen": "erstantrag",
        "tag_der_antragstellung": "2025-03-04",
    }
    assert {t.lane for t in antrag.open_tasks()} == {"EGS"}
    egs = deployed.actor("egs")
    [ausgang] = deployed.case_view(egs, row.id).related
    assert (ausgang.business_key, ausgang.relation) == (case.header.business_key, "Ausgangsvorgang")
    [daraus] = deployed.case_view(egs, case.instance_id).related
    assert (daraus.instance_id, daraus.relation) == (row.id, "daraus gestartet")


def test_antrag_bleibt_erhalten_wenn_der_besucher_gegangen_ist(deployed: Engine) -> None:
    """§ 37 SGB II: the claim was made at registration – it reaches PB even if the visitor left before the call."""
    with clock.frozen(ANKUNFT):
        case = aufgerufen(
            deployed, "sonstiger_antrag", site="56.7", anwesend=False,
            geburtsdatum="1979-11-30", tag_der_antragstellung="2025-03-03",
        )  # fmt: skip
    assert case.status == "completed"
    [row] = faelle(deployed, "pb_antragsannahme")
    antrag = CaseDriver.existing(deployed, row.id)
    assert antrag.site == "56.7"
    assert antrag.data["besuch"]["tag_der_antragstellung"] == "2025-03-03"
    assert antrag.data["besuch"]["anliegen"] == "sonstiger_antrag"


def test_unterlagen_gehen_an_den_wartenden_antrag(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    antrag = deployed.start_case(egs, pb.PROCESS)
    pb.walk_to_documents_requested(deployed, egs, antrag.instance_id)
    assert antrag.business_key
    case = aufgerufen(deployed, "unterlagen")
    heute = case.data["gestartet_am"]
    case.complete(
        UNTERLAGEN,
        {
            "bezug_vorgangsnummer": antrag.business_key,
            "dokumente_text": "Kontoauszüge Januar 2025\n\nKontoauszüge Februar 2025 ",
            "eingang_am": heute,
            "zuordnung": "angeforderte_unterlagen",
        },
    )
    assert case.status == "completed"
    assert nachrichten(deployed, antrag.instance_id) == [
        {
            "vorgangsnummer": antrag.business_key,
            "dokumente": ["Kontoauszüge Januar 2025", "Kontoauszüge Februar 2025"],
            "eingang_am": heute,
        }
    ]
    assert pb.EINGANG_ERFASSEN not in CaseDriver.existing(deployed, antrag.instance_id).open_task_names()
