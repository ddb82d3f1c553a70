"""A property-based run of the whole OpenAPI document against the app (Schemathesis over WSGI), on SQLite and
PostgreSQL: no operation answers 500, and every response matches the document (status, media type, headers,
body schema). The token holds every scope, so the operations are reached, not only refused."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from engine.api import Engine
from engine.api_tokens import SCOPES
from engine.models import ApiToken
from tests.support.api import bearer
from tests.support.users import UserFactory

EXAMPLES = 12  # per operation: about 15 s per database on our two cores (keeps .ci/run under 20 minutes)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,  # the same request without the token must be refused
]


@pytest.fixture
def every_scope(deployed: Engine, make_user: UserFactory) -> dict[str, str]:
    """A person at work (EGS 56.4) and in the audit function, with a token of every scope and no rate limit, and
    a few cases of theirs (ids 1–3), so that generated ids also meet cases and the reads answer 200."""
    actor = make_user("api-alles", ("EGS", "56.4"), ("AUDIT", "*"))
    for _ in range(3):
        deployed.start_case(actor, "pb_antragsannahme", site="56.4")
    token = deployed.create_personal_token(actor, "Schemathesis", list(SCOPES)).token
    with deployed.db.transaction() as session:
        session.execute(sa.update(ApiToken).values(rate_limit=1_000_000))
    return bearer(token)


def test_every_operation_conforms(app: Flask, every_scope: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)  # fmt: skip
        def conforms(case: Any) -> None:
            case.call_and_validate(headers=every_scope, checks=CHECKS)

        conforms()
