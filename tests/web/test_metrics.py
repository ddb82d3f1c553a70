"""``/metrics``: counts for monitoring in the Prometheus text format, no personal data, not for everyone."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from engine import clock
from engine.api import Engine
from engine.models import HumanTask
from tests.support import pb
from webapp import create_app


def metric(text: str, line_start: str) -> float:
    [line] = [line for line in text.splitlines() if line.startswith(line_start + " ")]
    return float(line.rsplit(" ", 1)[1])


def test_metrics_count_work_per_site_and_time_requests(app: Flask, deployed: Engine) -> None:
    with clock.frozen(clock.now() - timedelta(days=30)):
        case_id = pb.case_waiting_for_documents(deployed)  # its deadline timer is long overdue
    client = app.test_client()
    client.get("/healthz")
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = answer.get_data(as_text=True)
    with deployed.db.reading() as session:
        at_site = session.scalar(sa.select(sa.func.count()).where(HumanTask.site == "56.4"))
    assert metric(text, 'egs_open_tasks{site="56.4"}') == at_site >= 1
    assert metric(text, 'egs_open_tasks{site="56.8"}') == 0
    assert metric(text, "egs_timer_lag_seconds") > 15 * 24 * 3600, "deadline of 14 days, 30 days ago"
    assert 'egs_http_request_duration_seconds_count{method="GET",status="2xx"}' in text
    assert "# TYPE egs_http_request_duration_seconds histogram" in text
    view = deployed.case_view(deployed.actor("audit"), case_id)
    for secret in (view.header.business_key or "", view.header.applicant_name or ""):
        assert secret and secret not in text


def test_metrics_need_the_token_or_the_machine_itself(deployed: Engine) -> None:
    app = create_app(engine=deployed)
    outside = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert outside.status_code == 403
    proxied = app.test_client().get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
    assert proxied.status_code == 403, "a reverse proxy on the same machine must not make everyone local"
    deployed.settings = type(deployed.settings)(**{**deployed.settings.__dict__, "metrics_token": "geheim"})
    assert app.test_client().get("/metrics").status_code == 403  # loopback is not enough once a token is set
    wrong = app.test_client().get("/metrics", headers={"Authorization": "Bearer falsch"})
    assert wrong.status_code == 403
    right = app.test_client().get("/metrics", headers={"Authorization": "Bearer geheim"})
    assert right.status_code == 200 and "egs_open_incidents" in right.get_data(as_text=True)
