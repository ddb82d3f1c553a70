"""PostgreSQL: the application's role may append to the audit trail but not change, delete or unguard it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.db_roles import grant_application_role
from engine.errors import ConfigurationError
from tests.support.cases import CaseDriver
from tests.support.engines import make_engine
from tests.test_retention import LATER, ended_case

PASSWORD = "app-role-test"


@pytest.fixture
def app_engine(deployed: Engine) -> Iterator[Engine]:
    """An engine connected as a fresh application role (named after this test database and schema, dropped after)."""
    if deployed.db.is_sqlite:
        with pytest.raises(ConfigurationError):
            grant_application_role(deployed.db, "egs_app")
        pytest.skip("Rollen und Rechte gibt es nur unter PostgreSQL")
    with deployed.db.engine.connect() as connection:
        database, schema = connection.execute(sa.text("SELECT current_database(), current_schema()")).one()
    role = re.sub(r"[^a-z0-9_]", "_", f"egs_app_{database}_{schema}".lower())[:63]
    grant_application_role(deployed.db, role, PASSWORD)
    url = sa.make_url(deployed.db.url).set(username=role, password=PASSWORD)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.close()
        with deployed.db.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")


def test_the_application_role_works_cases_and_keeps_the_trail(app_engine: Engine) -> None:
    """Starting, completing and viewing append to the trail; retention's removal records pass the guard."""
    case = ended_case(app_engine)
    assert app_engine.run_retention(system_actor("test"), clock.now() + LATER) == 1
    assert CaseDriver.existing(app_engine, case.instance_id).header.status == "deleted"
    assert app_engine.verify_audit(system_actor("test")) == []


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE audit_event SET actor = 'mallory'", "permission denied"),
        ("UPDATE audit_event SET details = '{\"x\": 1}'", "append-only"),
        ("DELETE FROM audit_event", "permission denied"),
        ("TRUNCATE audit_event", "permission denied"),
        ("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change", "must be owner"),
        ("ALTER TABLE audit_event DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER audit_event_no_change ON audit_event", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("UPDATE alembic_version SET version_num = '0001'", "permission denied"),
    ],
)
def test_the_application_role_is_refused(app_engine: Engine, statement: str, refusal: str) -> None:
    ended_case(app_engine)
    with pytest.raises(sa.exc.DBAPIError, match=refusal):
        with app_engine.db.transaction() as session:
            session.execute(sa.text(statement))
