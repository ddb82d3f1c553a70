"""Unterstützung IFK (Konzept Ziffer 4.4): Förderleistungen EGZ, EQ und § 16e SGB II abwickeln.

Every gateway flow of ``ifk_unterstuetzung`` is walked: cut-over (§ 1) with comp.ASS / OPEN/PROSOZ,
limit checks against ``config/egs.toml`` [ifk] with correction by the IFK, Bescheid by EGS / by IFK / none,
Zahlkarte with the four-eyes rule and a returned Zahlkarte, and one Sammelliste entry per Fördermonat.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, FourEyesError
from engine.models import AuditEvent, PaymentListEntry
from engine.payment_lists import payment_list
from tests.support.cases import CaseDriver

PROCESS = "ifk_unterstuetzung"
ERFASSEN = "Förderentscheidung an den EGS übergeben"
KORRIGIEREN = "Förderentscheidung korrigieren"
MASSNAHME = "Maßnahme anlegen"
BESCHEID = "Bewilligungsbescheid erstellen"
TEILBESCHEID = "Teilbewilligungsbescheid erstellen"
ZAHLKARTE = "Zahlkarte anlegen"
BEWILLIGEN = "Zahlkarte bewilligen"
KENNTNIS = "Abwicklung zur Kenntnis nehmen"
ALT_COMPASS = "Zahlung in comp.ASS veranlassen (Altverfahren)"
ALT_OPEN = "Förderfall in OPEN/PROSOZ abwickeln (Altverfahren)"

APRIL = "2025-04-07T09:30:00+02:00"  # the new task split applies from 01.04.2025


@pytest.fixture
def april() -> Iterator[None]:
    with clock.frozen(clock.parse_iso(APRIL)):
        yield


@pytest.fixture
def kollegin(make_user):  # type: ignore[no-untyped-def]
    """A second EGS clerk at 56.4 who may approve what the demo user 'egs' created."""
    return make_user("egs_kollegin", ("EGS", "56.4"))


def entscheidung(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "massnahmeart": "EGZ",
        "entscheidung": "vollbewilligung",
        "entscheidung_am": "2025-03-03",
        "vorname": "Mareike",
        "nachname": "Holtensen",
        "bg_nummer": "07402//0094744",
        "arbeitgeber_name": "Tischlerei Brakenhoff GmbH",
        "arbeitgeber_plz": "37081",
        "arbeitgeber_ort": "Göttingen",
        "foerderbeginn": "2025-05-01",
        "foerderdauer_monate": 6,
        "arbeitsentgelt_monat": 2400.0,
        "egz_foerderhoehe_prozent": 50,
        "ausnahme_besonderer_personenkreis": False,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def eq(**overrides: Any) -> dict[str, Any]:
    base = {
        "massnahmeart": "EQ",
        "eq_betrag_monat": 276.0,
        "arbeitsentgelt_monat": None,
        "egz_foerderhoehe_prozent": None,
        "arbeitgeber_name": "Bäckerei Wendebourg",
    }
    return entscheidung(**{**base, **overrides})


MASSNAHME_MIT_BESCHEID = {
    "massnahme_nummer": "EGZ-2025/0417",
    "massnahme_angelegt_am": "2025-04-07",
    "bescheid_erforderlich": True,
}
MASSNAHME_OHNE_BESCHEID = {**MASSNAHME_MIT_BESCHEID, "bescheid_erforderlich": False}
BESCHEID_DATEN = {"bescheid_datum": "2025-04-07", "bescheid_versandt": True}
ZAHLKARTE_DATEN = {
    "zahlkarte_nummer": "ZK-2025-0815",
    "zahlungsempfaenger": "Tischlerei Brakenhoff GmbH",
    "iban": "DE89 3704 0044 0532 0130 00",
    "zahlkarte_angelegt_am": "2025-04-07",
}


def bewilligt(betrag: float) -> dict[str, Any]:
    return {"bewilligung": "bewilligt", "bewilligter_gesamtbetrag": betrag}


def tasks_by_lane(case: CaseDriver) -> list[tuple[str, str]]:
    return sorted((t.lane, t.name) for t in case.open_tasks())


def entries(engine: Engine, instance_id: int) -> list[PaymentListEntry]:
    with engine.db.reading() as session:
        return list(
            session.scalars(
                sa.select(PaymentListEntry)
                .where(PaymentListEntry.instance_id == instance_id)
                .order_by(PaymentListEntry.id)
            )
        )


def audit_actions(engine: Engine, instance_id: int) -> list[str]:
    with engine.db.reading() as session:
        return list(
            session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
            )
        )


def bis_zur_zahlkarte(deployed: Engine, data: dict[str, Any], massnahme: dict[str, Any]) -> CaseDriver:
    case = CaseDriver(deployed, PROCESS)
    case.complete(ERFASSEN, data)
    case.complete(MASSNAHME, massnahme)
    return case


def test_egz_vollbewilligung_mit_bescheid_bis_zur_sammelliste(deployed: Engine, april: None, kollegin) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(deployed, PROCESS)
    assert tasks_by_lane(case) == [("IFK", ERFASSEN)]
    case.complete(ERFASSEN, entscheidung())

    assert tasks_by_lane(case) == [("EGS", MASSNAHME)], "from 01.04.2025 EGS does the processing"
    data = case.data
    assert data["ifk_unterstuetzung_neu"] is True
    assert data["grenzen_eingehalten"] is True and data["pruefhinweise"] == []
    assert data["foerderbetrag_monat"] == 1200.0, "50 % of 2 400 €"
    assert data["foerderbetrag_gesamt"] == 7200.0
    assert data["foerderende"] == "2025-10-31"
    assert [z["zahlmonat"] for z in data["zahlplan"]] == [f"2025-{m:02d}" for m in range(5, 11)]

    case.complete(MASSNAHME, MASSNAHME_MIT_BESCHEID)
    assert tasks_by_lane(case) == [("EGS", BESCHEID)]
    case.complete(BESCHEID, BESCHEID_DATEN)
    case.complete(ZAHLKARTE, ZAHLKARTE_DATEN, as_user="egs")
    assert tasks_by_lane(case) == [("EGS", BEWILLIGEN)]
    assert entries(deployed, case.instance_id) == [], "nothing is on a Sammelliste before the approval"

    case.complete(BEWILLIGEN, bewilligt(7200.0), as_user="egs_kollegin")

    assert tasks_by_lane(case) == [("IFK", KENNTNIS)], "IFK is informed after the Sammelliste entries"
    rows = entries(deployed, case.instance_id)
    assert [(r.measure_type, r.pay_month, r.amount_cents, r.recipient, r.approved_by) for r in rows] == [
        ("EGZ", f"2025-{m:02d}", 120000, "Tischlerei Brakenhoff GmbH", "egs_kollegin") for m in range(5, 11)
    ]
    assert all(r.business_key == case.header.business_key and r.site == "56.4" for r in rows)
    assert case.data["sammelliste_eintraege"] == [r.id for r in rows]
    with deployed.db.reading() as session:
        mai = payment_list(session, "56.4", "EGZ", "2025-05")
    assert mai.total_cents == 120000 and [line.business_key for line in mai.lines] == [case.header.business_key]

    case.complete(KENNTNIS, {"kenntnis_genommen": True})
    assert case.status == "completed"


def test_zahlkarte_bewilligt_nur_eine_andere_person(deployed: Engine, april: None, kollegin) -> None:  # type: ignore[no-untyped-def]
    case = bis_zur_zahlkarte(deployed, eq(), MASSNAHME_OHNE_BESCHEID)
    assert tasks_by_lane(case) == [("EGS", ZAHLKARTE)], "Vollbewilligung without Bescheid goes straight on"
    case.complete(ZAHLKARTE, {**ZAHLKARTE_DATEN, "zahlungsempfaenger": "Bäckerei Wendebourg"}, as_user="egs")
    approval = case.task(BEWILLIGEN).task_uuid
    creator = deployed.actor("egs")
    before = case.data

    with pytest.raises(FourEyesError, match="Vier-Augen-Prinzip"):
        deployed.claim(creator, approval)
    with pytest.raises(FourEyesError, match="Vier-Augen-Prinzip"):
        deployed.complete_task(creator, approval, bewilligt(1656.0))

    assert audit_actions(deployed, case.instance_id).count("access_denied") == 2
    assert case.task(BEWILLIGEN).assignee is None, "the refused claim left the task unassigned"
    assert case.data == before and entries(deployed, case.instance_id) == [], "nothing stored"

    deployed.claim(kollegin, approval)
    case.complete(BEWILLIGEN, bewilligt(1656.0), as_user="egs_kollegin")
    rows = entries(deployed, case.instance_id)
    assert [(r.measure_type, r.pay_month, r.amount_cents) for r in rows] == [
        ("EQ", f"2025-{m:02d}", 27600) for m in range(5, 11)
    ]
    assert {r.approved_by for r in rows} == {"egs_kollegin"}


def test_zurueckgegebene_und_abweichende_zahlkarte_wird_korrigiert(deployed: Engine, april: None, kollegin) -> None:  # type: ignore[no-untyped-def]
    case = bis_zur_zahlkarte(
        deployed,
        entscheidung(
            massnahmeart="16e", foerderdauer_monate=24, arbeitsentgelt_monat=2000.0, egz_foerderhoehe_prozent=None
        ),
        MASSNAHME_OHNE_BESCHEID,
    )
    data = case.data
    assert (data["foerderbetrag_monat"], data["foerderbetrag_monat_jahr2"]) == (1500.0, 1000.0), "75 % / 50 %"
    assert data["foerderbetrag_gesamt"] == 30000.0
    assert data["zahlplan_uebersicht"] == (
        "Fördermonat 1 bis 12 (05/2025 bis 04/2026): 1500,00 € monatlich; "
        "Fördermonat 13 bis 24 (05/2026 bis 04/2027): 1000,00 € monatlich; gesamt 30000,00 €"
    )

    case.complete(ZAHLKARTE, {**ZAHLKARTE_DATEN, "iban": "DE02 1203 0000 0000 2020 51"}, as_user="egs")
    case.complete(
        BEWILLIGEN,
        {"bewilligung": "zurueckgegeben", "bewilligung_bemerkung": "IBAN gehört nicht zum Arbeitgeber."},
        as_user="egs_kollegin",
    )
    assert tasks_by_lane(case) == [("EGS", ZAHLKARTE)], "returned for correction"
    case.complete(ZAHLKARTE, ZAHLKARTE_DATEN, as_user="egs")
    case.complete(BEWILLIGEN, bewilligt(29000.0), as_user="egs_kollegin")
    assert tasks_by_lane(case) == [("EGS", ZAHLKARTE)], "a total that differs from the plan is not accepted"
    assert entries(deployed, case.instance_id) == []

    case.complete(ZAHLKARTE, ZAHLKARTE_DATEN, as_user="egs")
    case.complete(BEWILLIGEN, bewilligt(30000.0), as_user="egs_kollegin")
    rows = entries(deployed, case.instance_id)
    assert [r.amount_cents for r in rows] == [150000] * 12 + [100000] * 12
    assert (rows[0].pay_month, rows[12].pay_month, rows[-1].pay_month) == ("2025-05", "2026-05", "2027-04")
    assert {r.measure_type for r in rows} == {"16e"}
    assert tasks_by_lane(case) == [("IFK", KENNTNIS)]


def test_teilbewilligung_bescheid_durch_ifk(deployed: Engine, april: None, kollegin) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(deployed, PROCESS)
    case.complete(
        ERFASSEN,
        eq(
            entscheidung="teilbewilligung",
            eq_betrag_monat=200.0,
            teilbewilligung_umfang="Zuschuss nur 200 € statt 276 € monatlich.",
        ),
    )
    case.complete(MASSNAHME, MASSNAHME_MIT_BESCHEID)
    assert tasks_by_lane(case) == [("IFK", TEILBESCHEID)], "the IFK writes the Bescheid on partial approval"
    case.complete(
        TEILBESCHEID,
        {
            "teilbescheid_datum": "2025-04-07",
            "rechtsbehelfsbelehrung_enthalten": True,
            "teilablehnung_begruendung": "Vergütung unter Tarif; Zuschuss anteilig.",
        },
    )
    assert tasks_by_lane(case) == [("EGS", ZAHLKARTE)]
    case.complete(ZAHLKARTE, ZAHLKARTE_DATEN, as_user="egs")
    case.complete(BEWILLIGEN, bewilligt(1200.0), as_user="egs_kollegin")
    assert [r.amount_cents for r in entries(deployed, case.instance_id)] == [20000] * 6


@pytest.mark.parametrize(
    ("daten", "hinweis"),
    [
        (eq(eq_betrag_monat=300.0), "EQ: Der Zuschuss von 300,00 € übersteigt den Höchstbetrag von 276,00 € im Monat."),
        (eq(foerderdauer_monate=3), "EQ: Die Förderdauer muss 4 bis 12 Monate betragen (erfasst: 3)."),
        (eq(foerderdauer_monate=13), "EQ: Die Förderdauer muss 4 bis 12 Monate betragen (erfasst: 13)."),
        (entscheidung(egz_foerderhoehe_prozent=60), "EGZ: Die Förderhöhe von 60 % übersteigt den Höchstsatz von 50 %"),
        (entscheidung(foerderdauer_monate=18), "EGZ: Eine Förderdauer über 12 Monate ist nur als begründete Ausnahme"),
        (
            entscheidung(arbeitsentgelt_monat=0.01, egz_foerderhoehe_prozent=1),
            "Der berechnete monatliche Zuschuss beträgt 0,00 €",
        ),
        (
            entscheidung(massnahmeart="16e", foerderdauer_monate=30, egz_foerderhoehe_prozent=None),
            "§ 16e SGB II: Die Förderung ist auf zwei Jahre (24 Monate) angelegt (erfasst: 30 Monate).",
        ),
    ],
)
def test_hoechstgrenzen_fuehren_zur_korrektur_durch_die_ifk(
    deployed: Engine, april: None, daten: dict[str, Any], hinweis: str
) -> None:
    case = CaseDriver(deployed, PROCESS)
    case.complete(ERFASSEN, daten)
    assert tasks_by_lane(case) == [("IFK", KORRIGIEREN)], "nothing is silently accepted"
    assert case.data["grenzen_eingehalten"] is False
    [text] = case.data["pruefhinweise"]
    assert text.startswith(hinweis)


def test_korrigierte_entscheidung_wird_erneut_geprueft(deployed: Engine, april: None) -> None:
    case = CaseDriver(deployed, PROCESS)
    case.complete(ERFASSEN, eq(eq_betrag_monat=300.0))
    case.complete(KORRIGIEREN, eq(eq_betrag_monat=276.0))
    assert tasks_by_lane(case) == [("EGS", MASSNAHME)]
    assert case.data["pruefhinweise"] == [] and case.data["foerderbetrag_monat"] == 276.0


def test_egz_laenger_als_zwoelf_monate_nur_mit_begruendeter_ausnahme(deployed: Engine, april: None) -> None:
    case = CaseDriver(deployed, PROCESS)
    erfassen = case.task(ERFASSEN).task_uuid
    ifk = deployed.actor("ifk")
    with pytest.raises(FormValidationError) as refused:
        deployed.complete_task(
            ifk, erfassen, entscheidung(foerderdauer_monate=24, ausnahme_besonderer_personenkreis=True)
        )
    assert set(refused.value.field_errors) == {"ausnahme_grund", "ausnahme_begruendung"}
    with pytest.raises(FormValidationError) as refused:
        deployed.complete_task(
            ifk,
            erfassen,
            eq(
                ausnahme_besonderer_personenkreis=True,
                ausnahme_grund="aeltere_person",
                ausnahme_begruendung="Kunde ist 58 Jahre alt und lange arbeitslos.",
            ),
        )
    assert refused.value.field_errors == {
        "ausnahme_besonderer_personenkreis": [
            "Eine Ausnahme für eine längere Förderdauer gibt es nur beim Eingliederungszuschuss."
        ]
    }
    assert tasks_by_lane(case) == [("IFK", ERFASSEN)] and "massnahmeart" not in case.data, "nothing stored"

    case.complete(
        ERFASSEN,
        entscheidung(
            foerderdauer_monate=24,
            ausnahme_besonderer_personenkreis=True,
            ausnahme_grund="schwerbehinderung",
            ausnahme_begruendung="Schwerbehinderung (GdB 60), längere Einarbeitung erforderlich (§ 90 SGB III).",
        ),
    )
    assert tasks_by_lane(case) == [("EGS", MASSNAHME)]
    assert len(case.data["zahlplan"]) == 24 and case.data["foerderende"] == "2027-04-30"


def test_pflichtangaben_je_massnahmeart(deployed: Engine, april: None) -> None:
    case = CaseDriver(deployed, PROCESS)
    erfassen = case.task(ERFASSEN).task_uuid
    ifk = deployed.actor("ifk")
    cases = [
        (eq(eq_betrag_monat=None), {"eq_betrag_monat"}),
        (
            entscheidung(arbeitsentgelt_monat=None, egz_foerderhoehe_prozent=None),
            {"arbeitsentgelt_monat", "egz_foerderhoehe_prozent"},
        ),
        (entscheidung(entscheidung="teilbewilligung"), {"teilbewilligung_umfang"}),
        (entscheidung(bg_nummer="07402/94744", arbeitgeber_plz="3708"), {"bg_nummer", "arbeitgeber_plz"}),
        (entscheidung(entscheidung_am="2025-04-08"), {"entscheidung_am"}),
    ]
    for data, fields in cases:
        with pytest.raises(FormValidationError) as refused:
            deployed.complete_task(ifk, erfassen, data)
        assert set(refused.value.field_errors) == fields
    assert tasks_by_lane(case) == [("IFK", ERFASSEN)]


def test_zahlkarte_und_bewilligung_pruefen_ihre_eingaben(deployed: Engine, april: None, kollegin) -> None:  # type: ignore[no-untyped-def]
    case = bis_zur_zahlkarte(deployed, eq(), MASSNAHME_OHNE_BESCHEID)
    egs = deployed.actor("egs")
    with pytest.raises(FormValidationError) as refused:
        deployed.complete_task(
            egs, case.task(ZAHLKARTE).task_uuid, {**ZAHLKARTE_DATEN, "iban": "DE89370400440532013001"}
        )
    assert refused.value.field_errors == {"iban": ["Die IBAN ist ungültig (Prüfziffer oder Länge stimmen nicht)."]}
    with pytest.raises(FormValidationError) as refused:
        deployed.complete_task(egs, case.task(ZAHLKARTE).task_uuid, {**ZAHLKARTE_DATEN, "zahlungsempfaenger": "   "})
    assert refused.value.field_errors == {"zahlungsempfaenger": ["Bitte den Zahlungsempfänger angeben."]}
    case.complete(ZAHLKARTE, ZAHLKARTE_DATEN, as_user="egs")
    approval = case.task(BEWILLIGEN).task_uuid
    for data, field in [
        ({"bewilligung": "bewilligt"}, "bewilligter_gesamtbetrag"),
        ({"bewilligung": "zurueckgegeben"}, "bewilligung_bemerkung"),
        ({"bewilligung": "bewilligt", "bewilligter_gesamtbetrag": -5.0}, "bewilligter_gesamtbetrag"),
    ]:
        with pytest.raises(FormValidationError) as refused:
            deployed.complete_task(kollegin, approval, data)
        assert list(refused.value.field_errors) == [field]
    assert entries(deployed, case.instance_id) == []


@pytest.mark.parametrize(
    ("tag", "zahlungssystem", "aufgabe"),
    [
        # boundary day of the payment run for April (umstellung.zahlfaelle_compass_bis, Berlin time)
        ("2025-03-20T23:50:00+01:00", "compass", ALT_COMPASS),
        ("2025-03-21T00:10:00+01:00", "open_prosoz", ALT_OPEN),
    ],
)
def test_vor_dem_1_april_2025_bleibt_die_abwicklung_bei_der_ifk(
    deployed: Engine, tag: str, zahlungssystem: str, aufgabe: str
) -> None:
    with clock.frozen(clock.parse_iso(tag)):
        case = CaseDriver(deployed, PROCESS)
        case.complete(ERFASSEN, entscheidung())
        assert tasks_by_lane(case) == [("IFK", aufgabe)], "no EGS task before the cut-over"
        assert case.data["ifk_unterstuetzung_neu"] is False
        assert case.data["zahlungssystem"] == zahlungssystem
        assert "zahlplan" not in case.data
        case.complete(aufgabe, {"abwicklung_erledigt": True, "abwicklung_am": clock.today_berlin().isoformat()})
    assert case.status == "completed"
    assert entries(deployed, case.instance_id) == []


@pytest.mark.parametrize(
    ("tag", "neu", "lane"),
    [("2025-03-31T23:50:00+02:00", False, "IFK"), ("2025-04-01T00:10:00+02:00", True, "EGS")],
)
def test_umstellungstag_der_ifk_unterstuetzung_entscheidet_die_tabelle(
    deployed: Engine, tag: str, neu: bool, lane: str
) -> None:
    """Konzept § 1: from 01.04.2025 EGS does the processing – decided by the table umstellung_ifk_neu."""
    with clock.frozen(clock.parse_iso(tag)):
        case = CaseDriver(deployed, PROCESS)
        case.complete(ERFASSEN, entscheidung())
        assert case.data["stichtag"] == tag[:10]
        assert case.data["ifk_unterstuetzung_neu"] is neu
        assert {lane_name for lane_name, _ in tasks_by_lane(case)} == {lane}
