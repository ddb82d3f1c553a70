"""Staff, absences, working days, the § 6 VZÄ plan and demand/capacity per site (issue 13)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.errors import PermissionDeniedError, RuleViolationError
from engine.staff import StaffInput
from engine.working_days import holiday_name, is_working_day, next_working_days
from tests.support.records import audit_events
from tests.support.users import UserFactory

TUESDAY = date(2026, 12, 8)  # a working day in Lower Saxony


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), clock.BERLIN)


def leads(make_user: UserFactory) -> None:
    make_user("fdl4", ("FDL", "56.4"))
    make_user("tl4", ("TL", "56.4"))


def person(name: str, hours: str, function: str = "EGS", start: date = date(2020, 1, 1)) -> StaffInput:
    return StaffInput(name, function, Decimal(hours), start)


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2026, 10, 31), "Reformationstag"),  # a holiday in Lower Saxony, not in Bavaria
        (date(2026, 12, 25), "Erster Weihnachtstag"),
        (date(2026, 12, 24), None),
        (date(2027, 3, 26), "Karfreitag"),
        (date(2026, 6, 4), None),  # Fronleichnam: not in Lower Saxony
    ],
)
def test_feiertage_niedersachsen_aus_der_bibliothek(day: date, holiday: str | None) -> None:
    assert holiday_name(day) == holiday
    assert is_working_day(day) is (holiday is None and day.weekday() < 5)


def test_arbeitstage_ueberspringen_wochenende_und_feiertage() -> None:
    assert next_working_days(date(2026, 12, 24), 3) == [date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29)]


def test_vzae_plan_mit_teilzeit_und_der_entscheidung_zu_115(engine: Engine, make_user: UserFactory) -> None:
    leads(make_user)
    fdl, tl = engine.actor("fdl4"), engine.actor("tl4")
    engine.add_staff(tl, "56.4", person("Anna Voll", "39"))
    engine.add_staff(tl, "56.4", person("Berta Halb", "19.5"))
    engine.add_staff(tl, "56.4", person("Lars LSB", "39", "LSB"))  # not in the EGS plan
    with clock.frozen(at(TUESDAY)):
        view = engine.staff_overview(tl, "56.4")
    plan = view.plan
    assert [(r.name, r.factor) for r in plan.rows] == [("Anna Voll", Decimal("1.00")), ("Berta Halb", Decimal("0.50"))]
    assert plan.mode.decided_by is None and "noch keine Entscheidung" in plan.mode.label
    assert plan.totals == {
        "allgemeine_verwaltung": Decimal("0.68"),  # 0.45 + 0.225, rounded once
        "neuantragsbearbeitung": Decimal("0.83"),  # 0.55 + 0.275
        "unterstuetzung_ifk": Decimal("0.23"),  # 0.15 + 0.075
    }
    assert plan.configured_sum == Decimal("1.15") and plan.rows[0].total == Decimal("1.15"), "not corrected silently"
    assert not view.may_decide and view.may_redeploy is False, "TL neither decides nor redeploys"
    with pytest.raises(PermissionDeniedError):
        engine.decide_share_mode(tl, "56.4", "normiert")
    with pytest.raises(RuleViolationError):
        engine.decide_share_mode(fdl, "56.4", "halbiert")
    engine.decide_share_mode(fdl, "56.4", "normiert")
    with clock.frozen(at(TUESDAY)):
        plan = engine.staff_overview(fdl, "56.4").plan
    assert plan.mode.label == "VZÄ-Anteile auf 1,00 normiert" and plan.mode.decided_by == "fdl4"
    assert plan.rows[0].total == Decimal("1.00") and plan.rows[1].total == Decimal("0.50")
    assert plan.shares["neuantragsbearbeitung"] == Decimal("0.48")  # 0.55 / 1.15
    [decision] = audit_events(engine, "share_mode_decided")
    assert decision.details == {"standort": "56.4", "entscheidung": "normiert", "vorher": None}
    assert len(audit_events(engine, "access_denied")) == 1


def test_kapazitaet_mit_abwesenheit_und_feiertag(engine: Engine, make_user: UserFactory) -> None:
    leads(make_user)
    tl = engine.actor("tl4")
    anna = engine.add_staff(tl, "56.4", person("Anna Voll", "39"))
    engine.add_staff(tl, "56.4", person("Berta Halb", "19.5"))
    engine.add_staff(tl, "56.4", person("Clara Später", "39", start=date(2027, 1, 1)))
    engine.add_absence(tl, anna, date(2026, 12, 9), date(2026, 12, 11), "urlaub")
    with clock.frozen(at(date(2026, 12, 23))):  # Wednesday before Christmas
        days = engine.staff_overview(tl, "56.4").workload.days
    assert [d.day for d in days[:3]] == [date(2026, 12, 23), date(2026, 12, 24), date(2026, 12, 28)]
    assert len(days) == 11, "today and the next 10 working days"
    today = days[0]
    # 39 h / 5 = 7.8 h, 19.5 h / 5 = 3.9 h per day; shares as in the concept (1.15)
    assert today.capacity == {
        "allgemeine_verwaltung": Decimal("5.27"),  # 11.7 × 0.45
        "neuantragsbearbeitung": Decimal("6.44"),  # 11.7 × 0.55
        "unterstuetzung_ifk": Decimal("1.76"),  # 11.7 × 0.15
    }
    assert today.present == ("Anna Voll", "Berta Halb") and today.absent == ()
    assert days[-1].day == date(2027, 1, 8) and "Clara Später" in days[-1].present
    with clock.frozen(at(date(2026, 12, 9))):
        days = engine.staff_overview(tl, "56.4").workload.days
    assert days[0].present == ("Berta Halb",) and days[0].absent == ("Anna Voll",)
    assert days[0].capacity_total == Decimal(
        "4.50"
    )  # 3.9 × (0.45, 0.55, 0.15), per area to the hundredth: 1.76 + 2.15 + 0.59
    with clock.frozen(at(date(2026, 12, 25))):
        today = engine.staff_overview(tl, "56.4").workload.today
    assert today.holiday == "Erster Weihnachtstag" and today.capacity_total == 0


def test_bedarf_aus_offenen_aufgaben_und_prognose(deployed: Engine) -> None:
    fdl = deployed.actor("fdl")
    deployed.add_staff(fdl, "56.4", person("Anna Voll", "39"))
    with clock.frozen(at(date(2026, 11, 24))):  # a Tuesday, two weeks back
        for _ in range(4):
            deployed.start_case(deployed.actor("egs"), "besuchersteuerung", site="56.4")
    with clock.frozen(at(TUESDAY)):
        load = deployed.staff_overview(fdl, "56.4").workload
    assert load.open_tasks["allgemeine_verwaltung"] == 4 and load.overdue_total == 0
    # 4 visitor cases on one Tuesday in the last 4 weeks (4 working Tuesdays): 4 × 10 min / 4 = 10 min a Tuesday
    forecast_tuesday = Decimal("0.17")
    assert load.days[0].demand["allgemeine_verwaltung"] == load.backlog["allgemeine_verwaltung"] + forecast_tuesday
    next_tuesday = next(d for d in load.days[1:] if d.day.weekday() == 1)
    assert next_tuesday.demand["allgemeine_verwaltung"] == forecast_tuesday
    assert all(d.demand_total == 0 for d in load.days[1:] if d.day.weekday() != 1)


def test_nur_leitungen_des_standorts(engine: Engine, make_user: UserFactory) -> None:
    leads(make_user)
    make_user("egs4", ("EGS", "56.4"))
    make_user("tl5", ("TL", "56.5"))
    for name in ("egs4", "tl5"):
        with pytest.raises(PermissionDeniedError):
            engine.staff_overview(engine.actor(name), "56.4")
        with pytest.raises(PermissionDeniedError):
            engine.add_staff(engine.actor(name), "56.4", person("X", "39"))
    anna = engine.add_staff(engine.actor("tl4"), "56.4", person("Anna Voll", "39"))
    with pytest.raises(PermissionDeniedError):
        engine.add_absence(engine.actor("tl5"), anna, TUESDAY, TUESDAY, "urlaub")


@pytest.mark.parametrize(
    ("first", "last", "kind", "message"),
    [
        (date(2026, 12, 9), date(2026, 12, 8), "urlaub", "vor ihrem Beginn"),
        (TUESDAY, TUESDAY, "kur", "Unbekannte Art"),
        (date(2026, 1, 1), date(2027, 6, 1), "sonstige", "höchstens ein Jahr"),
    ],
)
def test_abwesenheit_abgewiesen(
    engine: Engine, make_user: UserFactory, first: date, last: date, kind: str, message: str
) -> None:
    leads(make_user)
    tl = engine.actor("tl4")
    anna = engine.add_staff(tl, "56.4", person("Anna Voll", "39"))
    with pytest.raises(RuleViolationError, match=message):
        engine.add_absence(tl, anna, first, last, kind)


def test_csv_import_alles_oder_nichts(engine: Engine, make_user: UserFactory) -> None:
    leads(make_user)
    tl = engine.actor("tl4")
    staff_csv = (
        "Name;Funktion;Wochenstunden;Beginn;Ende;Benutzer\nAnna Voll;EGS;39;01.01.2020;;\n"
        "Lars Lind;lsb;30,5;2021-03-01;;lsb\n"
    )
    assert engine.import_staff(tl, "56.4", staff_csv) == (2, 0)
    absences = "name,von,bis,art\nAnna Voll,08.12.2026,09.12.2026,Krankheit\n"
    assert engine.import_staff(tl, "56.4", absences) == (0, 1)
    bad = "name;von;bis;art\nAnna Voll;10.12.2026;11.12.2026;urlaub\nNiemand;10.12.2026;11.12.2026;urlaub\n"
    with pytest.raises(RuleViolationError, match="Zeile 3: 'Niemand' gehört nicht"):
        engine.import_staff(tl, "56.4", bad)
    with pytest.raises(RuleViolationError, match="Zeile 2: '31.02.2026' ist kein Datum"):
        engine.import_staff(tl, "56.4", "name;funktion;wochenstunden;beginn\nX;EGS;39;31.02.2026\n")
    with pytest.raises(RuleViolationError, match="Unbekannte Spalten"):
        engine.import_staff(tl, "56.4", "=cmd|' /C calc'!A0;b\n1;2\n")
    with clock.frozen(at(TUESDAY)):
        view = engine.staff_overview(tl, "56.4")
    assert [(p.name, p.function, p.weekly_hours, p.username) for p in view.staff] == [
        ("Anna Voll", "EGS", Decimal("39.00"), None),
        ("Lars Lind", "LSB", Decimal("30.50"), "lsb"),
    ]
    assert [(a.kind_label, a.first_day) for a in view.staff[0].absences] == [("Krankheit", TUESDAY)]
    imports = audit_events(engine, "staff_imported")
    assert [e.details["personen"] for e in imports] == [2, 0]
    assert all("Anna" not in str(e.details) for e in audit_events(engine, "absence_saved")), "no names in details"


def test_system_darf_alles_aber_unbekannter_standort(engine: Engine) -> None:
    from engine.errors import NotFoundError

    with pytest.raises(NotFoundError):
        engine.staff_overview(system_actor("t"), "99.9")


def test_every_shipped_process_names_one_of_the_three_areas() -> None:
    """The area is a property of the model (egsBereich), checked by the lint; every shipped process has one."""
    from engine.model_loader import ModelFile, load_processes
    from engine.vocabulary import WORK_AREAS
    from tests.support.engines import PROCESSES

    files = [ModelFile.from_path(path) for path in sorted(PROCESSES.iterdir())]
    models = load_processes(files, 5_000_000, validate=False)
    assert len(models) == len(list(PROCESSES.glob("*.bpmn")))
    assert {pid: m.area for pid, m in models.items() if m.area not in WORK_AREAS} == {}
    assert models["pb_antragsannahme"].area == "neuantragsbearbeitung"
    assert models["ifk_unterstuetzung"].area == "unterstuetzung_ifk"


def test_a_task_counts_in_the_area_of_the_version_its_case_runs_on(deployed: Engine) -> None:
    """Open tasks count in the area their deployed model names: the process's, or the task's own; a case on an
    older version keeps the area of that version."""
    from engine.model_loader import ModelFile
    from tests.support.engines import FORMS, PROCESSES

    fdl, egs = deployed.actor("fdl"), deployed.actor("egs")
    with clock.frozen(at(TUESDAY, 9)):
        deployed.start_case(egs, "besuchersteuerung", site="56.4")  # version 1: allgemeine_verwaltung
        text = (PROCESSES / "besuchersteuerung.bpmn").read_text(encoding="utf-8")
        text = text.replace(
            'name="egsBereich" value="allgemeine_verwaltung"', 'name="egsBereich" value="neuantragsbearbeitung"'
        )
        deployed.deploy_files([ModelFile("besuchersteuerung.bpmn", text.encode())], system_actor("test"), FORMS)
        deployed.start_case(egs, "besuchersteuerung", site="56.4")  # version 2: neuantragsbearbeitung
        own = text.replace(
            '<spiffworkflow:property name="formJsonSchemaFilename" value="besuch_anmeldung.json" />',
            '<spiffworkflow:property name="formJsonSchemaFilename" value="besuch_anmeldung.json" />'
            '<spiffworkflow:property name="egsBereich" value="unterstuetzung_ifk" />',
        )
        assert own != text
        deployed.deploy_files([ModelFile("besuchersteuerung.bpmn", own.encode())], system_actor("test"), FORMS)
        deployed.start_case(egs, "besuchersteuerung", site="56.4")  # version 3: the first task names its own area
    with clock.frozen(at(TUESDAY, 10)):
        load = deployed.staff_overview(fdl, "56.4").workload
    assert load.open_tasks == {"allgemeine_verwaltung": 1, "neuantragsbearbeitung": 1, "unterstuetzung_ifk": 1}
    rows = [r for r in deployed.raci() if r.step == "Besucher anmelden und Anliegen einordnen"]
    assert [r.area for r in rows] == ["Unterstützung IFK"]  # RACI shows the newest version's area of the step


@pytest.mark.parametrize("hours", ["NaN", "Infinity", "0", "-5", "48.5"])
def test_unsinnige_wochenstunden_abgewiesen(engine: Engine, make_user: UserFactory, hours: str) -> None:
    leads(make_user)
    with pytest.raises(RuleViolationError, match="Wochenstunden"):
        engine.add_staff(engine.actor("tl4"), "56.4", person("X", hours))


@pytest.mark.parametrize("text", ["", "abc", "name\nAnna", "name,funktion\n"])
def test_csv_ohne_passende_spalten(engine: Engine, make_user: UserFactory, text: str) -> None:
    leads(make_user)
    with pytest.raises(RuleViolationError, match="Unbekannte Spalten"):
        engine.import_staff(engine.actor("tl4"), "56.4", text)
