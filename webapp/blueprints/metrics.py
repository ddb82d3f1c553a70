"""``/metrics`` in the Prometheus text format: work, incidents, timer lag, jail kills and request latency.

No personal data and no case numbers, only counts per site. Scraping needs the bearer token from
``EGS_METRICS_TOKEN``; without a token configured, only the machine itself (loopback) may scrape.
The request latencies are those of the process that answers (each server process keeps its own).
"""

from __future__ import annotations

import hmac
import threading
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, g, request

from ..extensions import get_engine

bp = Blueprint("metrics", __name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LOOPBACK = {"127.0.0.1", "::1"}


class LatencyHistogram:
    """Request durations by method and status class (2xx, 4xx …), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], list[float]] = {}  # bucket counts…, sum, count

    def observe(self, method: str, status: int, seconds: float) -> None:
        key = (method, f"{status // 100}xx")
        with self._lock:
            series = self._series.setdefault(key, [0.0] * (len(BUCKETS) + 2))
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    series[index] += 1
            series[-2] += seconds
            series[-1] += 1

    def lines(self) -> list[str]:
        name = "egs_http_request_duration_seconds"
        out = [f"# HELP {name} Dauer der HTTP-Anfragen dieses Prozesses.", f"# TYPE {name} histogram"]
        with self._lock:
            snapshot = {key: list(values) for key, values in sorted(self._series.items())}
        for (method, status), series in snapshot.items():
            labels = f'method="{method}",status="{status}"'
            for bound, count in zip(BUCKETS, series, strict=False):
                out.append(f'{name}_bucket{{{labels},le="{bound}"}} {count:g}')
            out.append(f'{name}_bucket{{{labels},le="+Inf"}} {series[-1]:g}')
            out.append(f"{name}_sum{{{labels}}} {series[-2]:.6f}")
            out.append(f"{name}_count{{{labels}}} {series[-1]:g}")
        return out


HISTOGRAM = LatencyHistogram()


def init_app(app: Flask) -> None:
    """Time every request of ``app``."""

    @app.before_request
    def _start_clock() -> None:
        g.egs_request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("egs_request_started")
        if started is not None:
            HISTOGRAM.observe(request.method, response.status_code, time.perf_counter() - started)
        return response


def _allowed() -> bool:
    token = get_engine().settings.metrics_token
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(offered.encode(), token.encode())
    # Behind a reverse proxy on the same machine every request comes from loopback: a forwarded request
    # is never the machine itself.
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return request.remote_addr in LOOPBACK and not forwarded


def _gauge(name: str, help_text: str, values: dict[str, int]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f'{name}{{site="{site}"}} {value}' for site, value in sorted(values.items())]
    return lines


@bp.get("/metrics")
def metrics() -> Any:
    if not _allowed():
        abort(403, "Metriken nur mit Token oder vom Server selbst.")
    figures = get_engine().metrics()
    lines = [
        *_gauge("egs_open_tasks", "Offene Aufgaben je Standort.", figures.open_tasks),
        *_gauge("egs_overdue_tasks", "Überfällige offene Aufgaben je Standort.", figures.overdue_tasks),
        *_gauge("egs_open_incidents", "Offene Störungen je Standort.", figures.open_incidents),
        "# HELP egs_timer_lag_seconds Wie lange der älteste fällige Timer schon wartet.",
        "# TYPE egs_timer_lag_seconds gauge",
        f"egs_timer_lag_seconds {figures.timer_lag_seconds:.3f}",
        "# HELP egs_jail_started_total Gestartete Jail-Prozesse (dieser Prozess).",
        "# TYPE egs_jail_started_total counter",
        f"egs_jail_started_total {figures.jail_started}",
        "# HELP egs_jail_kills_total Abgebrochene oder ersetzte Jail-Prozesse (dieser Prozess).",
        "# TYPE egs_jail_kills_total counter",
        f"egs_jail_kills_total {figures.jail_kills}",
        *HISTOGRAM.lines(),
    ]
    return Response("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8")
