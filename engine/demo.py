"""Demo users and demo cases for trying the application (never in production)."""

from __future__ import annotations

import sqlalchemy as sa

from .accounts import create_account
from .api import Engine
from .auth import hash_password, system_actor
from .errors import ConfigurationError
from .models import ProcessInstance, User
from .vocabulary import ALL_SITES

DEMO_PASSWORD = "demo"

DEMO_USERS: tuple[tuple[str, str, list[tuple[str, str]]], ...] = (
    ("egs", "Erika Empfang (EGS)", [("EGS", "56.4")]),
    ("lsb", "Lars Leistung (LSB)", [("LSB", "56.4")]),
    ("ifk", "Ida Integration (IFK)", [("IFK", "56.4")]),
    ("tl", "Tom Teamleitung (TL)", [("TL", "56.4")]),
    ("fdl", "Frieda Fachdienst (FDL)", [("FDL", "56.4")]),
    ("fb50", "Fritz Sozialamt (FB 50)", [("FB50", "56.6")]),
    # FB 50 intake runs only at 56.6–56.8 (§ 5): this clerk starts it there and hands it to fb50.
    ("egs566", "Emil Empfang (EGS 56.6)", [("EGS", "56.6")]),
    ("modeller", "Mona Modell (Prozessverantwortung)", [("MODELLER", ALL_SITES)]),
    ("audit", "Anton Prüfer (Revision)", [("AUDIT", ALL_SITES)]),
)

# Invented people; any resemblance is accidental.
DEMO_CASES: tuple[tuple[str, list[dict[str, object]]], ...] = (
    ("07402//0090001", []),
    (
        "07402//0090002",
        [
            {
                "vorname": "Jana",
                "nachname": "Probstfeld",
                "geburtsdatum": "1988-04-12",
                "anliegen": "erstantrag",
                "tag_der_antragstellung": None,
            }
        ],
    ),
    (
        "07402//0090003",
        [
            {
                "vorname": "Milan",
                "nachname": "Oberwiesner",
                "geburtsdatum": "1979-11-30",
                "anliegen": "erstantrag",
                "tag_der_antragstellung": None,
            },
            {
                "antragsart": "hauptantrag",
                "ausgegebene_vordrucke": ["KDU"],
                "anlagen": ["EK"],
                "ausweisart": "personalausweis",
                "ausweisnummer": "L01X00T47",
                "ausweis_gueltig_bis": "2031-05-31",
                "identitaet_geprueft": True,
                "keine_ausweiskopie": True,
                "compass_stand": "nicht_erfasst",
            },
        ],
    ),
)


def create_demo_users(engine: Engine) -> list[str]:
    """Create the demo users that do not exist yet; return the names created.

    :raises ConfigurationError: in production.
    """
    if engine.settings.is_production:
        raise ConfigurationError("Demo-Benutzer werden in Produktion (EGS_ENV=production) nicht angelegt.")
    created: list[str] = []
    shared_hash = hash_password(DEMO_PASSWORD)  # one scrypt run for all demo accounts (same known password)
    demo = system_actor("demo")
    with engine.db.transaction() as session:
        existing = set(session.scalars(sa.select(User.username)))
        for username, display_name, grants in DEMO_USERS:
            if username not in existing:
                create_account(session, demo, username, display_name, DEMO_PASSWORD, grants, password_hash=shared_hash)
                created.append(username)
    return created


# Staff of 56.4 (§ 6/§ 7), invented; the logins of the demo users are linked where a redeployment needs them.
DEMO_STAFF: tuple[tuple[str, str, str, str | None], ...] = (
    ("Erika Empfang", "EGS", "39", "egs"),
    ("Emma Ebert", "EGS", "30", None),
    ("Elias Engel", "EGS", "19.5", None),
    ("Lars Leistung", "LSB", "39", "lsb"),
    ("Lea Lorenz", "LSB", "39", None),
    ("Ida Integration", "IFK", "39", "ifk"),
    ("Tom Teamleitung", "TL", "39", "tl"),
    ("Frieda Fachdienst", "FDL", "39", "fdl"),
)


def create_demo_staff(engine: Engine, site: str = "56.4") -> int:
    """Staff of a site and two absences from today on (once; refused in production): with only one of three
    EGS staff present the § 7 risk rule holds on the next working day. Returns how many people were added."""
    from datetime import date, timedelta
    from decimal import Decimal

    from . import clock
    from .staff import StaffInput
    from .staff_models import StaffMember
    from .working_days import next_working_days

    if engine.settings.is_production:
        raise ConfigurationError("Demo-Personal wird in Produktion nicht angelegt.")
    with engine.db.reading() as session:
        if session.scalar(sa.select(StaffMember.id).where(StaffMember.site == site).limit(1)) is not None:
            return 0
    demo = system_actor("demo")
    ids = {}
    for name, function, hours, username in DEMO_STAFF:
        person = StaffInput(name, function, Decimal(hours), date(2024, 1, 1), None, username)
        ids[name] = engine.add_staff(demo, site, person)
    first = clock.today_berlin()
    last = next_working_days(first, 3)[-1]
    engine.add_absence(demo, ids["Emma Ebert"], first, last, "krankheit")
    engine.add_absence(demo, ids["Elias Engel"], first, last + timedelta(days=7), "fortbildung")
    return len(ids)


def create_demo_cases(engine: Engine, process_id: str = "pb_antragsannahme") -> list[str]:
    """Start a few demo cases at different steps (once); return their business keys."""
    from . import clock

    if engine.settings.is_production:
        raise ConfigurationError("Demo-Vorgänge werden in Produktion nicht angelegt.")
    keys = [key for key, _ in DEMO_CASES]
    with engine.db.reading() as session:
        if session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.business_key.in_(keys)).limit(1)):
            return []
    clerk = engine.actor("egs")
    created: list[str] = []
    for key, steps in DEMO_CASES:
        header = engine.start_case(system_actor("demo"), process_id, site="56.4", business_key=key, system=True)
        for step in steps:
            data = {k: (clock.today_berlin().isoformat() if v is None else v) for k, v in step.items()}
            task = next(t for t in engine.inbox(clerk) if t.instance_id == header.instance_id)
            engine.complete_task(clerk, task.task_uuid, data)
        created.append(key)
    return created
