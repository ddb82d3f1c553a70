"""The login throttle in the database (issue 10): counted before the check and atomically, per user name and per
address with growing delays, shared by every process, the right password through from a clean address, and
refused tries summarised in the trail. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import auth, clock
from engine.api import Engine
from engine.errors import AuthenticationError, LoginThrottledError
from engine.login_throttle import Limit, ThrottlePolicy, address_key, user_key
from engine.models import LoginThrottle
from tests.support.engines import make_engine
from tests.support.records import audit_events
from tests.support.users import PASSWORD, UserFactory

ATTACKER, DESK = "203.0.113.66", "10.4.0.17"


class CountingChecks:
    """Counts password checks (scrypt runs) – the quantity the throttle must bound."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._lock = threading.Lock()
        original = auth.verify_password

        def counted(password: str, stored: str) -> bool:
            with self._lock:
                self.count += 1
            return original(password, stored)

        monkeypatch.setattr(auth, "verify_password", counted)


def attempt(engine: Engine, username: str, password: str, address: str) -> str:
    """'ok', 'falsch' (checked and wrong) or 'gesperrt' (refused unchecked)."""
    try:
        engine.login(username, password, address)
    except LoginThrottledError:
        return "gesperrt"
    except AuthenticationError:
        return "falsch"
    return "ok"


def hammer(tries: list[Callable[[], str]], threads: int = 24) -> list[str]:
    """Run every try at once from ``threads`` threads (a barrier lines them up)."""
    barrier = threading.Barrier(min(threads, len(tries)))

    def run(index: int) -> str:
        if index < barrier.parties:
            barrier.wait()
        return tries[index]()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(len(tries))))


def test_parallel_wrong_passwords_for_one_user_get_a_bounded_number_of_checks(
    engine: Engine, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user("opfer", ("EGS", "56.4"))
    checks = CountingChecks(monkeypatch)
    slow = ThrottlePolicy(per_user=Limit(5, timedelta(minutes=1), timedelta(minutes=15)))
    engine.throttle_policy = slow  # a first delay longer than the run: the count is exact, not a race

    results = hammer([lambda: attempt(engine, "opfer", "geraten", ATTACKER) for _ in range(120)])

    assert results.count("falsch") == checks.count == slow.per_user.free, results
    assert results.count("gesperrt") == 120 - checks.count
    assert len(audit_events(engine, "login_failed")) == checks.count, "one row per checked try"


def test_parallel_sprays_of_many_names_from_one_address_are_bounded_too(
    engine: Engine, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(8):
        make_user(f"kollege{number}", ("EGS", "56.4"))
    checks = CountingChecks(monkeypatch)
    slow = ThrottlePolicy(per_address=Limit(10, timedelta(minutes=1), timedelta(minutes=15)))
    engine.throttle_policy = slow
    tries = [lambda n=n, p=p: attempt(engine, f"kollege{n}", f"raten{p}", ATTACKER) for n in range(8) for p in range(3)]
    tries += tries  # 48 tries at once, three passwords per name, twice

    results = hammer(tries)

    assert checks.count == results.count("falsch") == slow.per_address.free, results
    assert attempt(engine, "kollege1", PASSWORD, ATTACKER) == "gesperrt", "the address is blocked for every name"
    assert attempt(engine, "kollege1", PASSWORD, DESK) == "ok", "another address is not"


def test_a_colleague_guessing_cannot_lock_out_the_real_user(engine: Engine, make_user: UserFactory) -> None:
    make_user("opfer", ("EGS", "56.4"))
    outcomes = [attempt(engine, "opfer", f"versuch{i}", ATTACKER) for i in range(12)]
    assert outcomes[:5] == ["falsch"] * 5 and set(outcomes[5:]) == {"gesperrt"}
    assert attempt(engine, "opfer", PASSWORD, ATTACKER) == "gesperrt", "not even the right one from there"

    assert attempt(engine, "opfer", PASSWORD, DESK) == "ok", "the real user at their desk gets in"
    assert attempt(engine, "opfer", "nochmal", ATTACKER) == "gesperrt", "the guesser's address stays blocked"


def test_a_wrong_try_from_a_clean_address_is_checked_once_while_the_user_is_blocked(
    engine: Engine, make_user: UserFactory
) -> None:
    make_user("opfer", ("EGS", "56.4"))
    for i in range(5):
        attempt(engine, "opfer", f"versuch{i}", ATTACKER)
    assert attempt(engine, "opfer", "vertippt", DESK) == "falsch", "a clean address is heard"
    assert attempt(engine, "opfer", PASSWORD, DESK) == "gesperrt", "but only until it failed itself"
    with clock.wall_frozen(clock.wall_now() + timedelta(minutes=1)):
        assert attempt(engine, "opfer", PASSWORD, DESK) == "ok"


def test_delays_grow_with_each_failure(engine: Engine, make_user: UserFactory) -> None:
    make_user("opfer", ("EGS", "56.4"))
    start = clock.wall_now()
    waits: list[int] = []
    moment = start
    for _ in range(9):
        with clock.wall_frozen(moment):
            for _ in range(5 if moment == start else 1):
                assert attempt(engine, "opfer", "falsch", ATTACKER) == "falsch"
            with pytest.raises(LoginThrottledError) as refused:
                engine.login("opfer", "falsch", ATTACKER)
        waits.append(refused.value.retry_after)
        moment += timedelta(seconds=refused.value.retry_after)
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert "Bitte warten Sie 9 Minuten" in str(refused.value.message)


def test_the_limits_grow_and_stop_at_their_maximum() -> None:
    limit = Limit(free=5, first_delay=timedelta(seconds=2), max_delay=timedelta(minutes=15))
    assert [limit.delay(n).total_seconds() for n in (0, 4, 5, 6, 7, 14, 60)] == [0, 0, 2, 4, 8, 900, 900]


def test_user_names_and_addresses_are_normalised() -> None:
    assert user_key(" EGS ") == user_key("egs") == "benutzer:egs"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "adresse:2001:db8:1:2::/64"
    assert address_key("::ffff:10.4.0.17") == address_key("10.4.0.17") == "adresse:10.4.0.17"
    assert address_key("") == "adresse:?"


def test_the_state_is_shared_by_every_process(engine: Engine, make_user: UserFactory) -> None:
    """Two engines on one database stand for two gunicorn workers: the old throttle counted per process."""
    make_user("opfer", ("EGS", "56.4"))
    other_process = make_engine(engine.settings.database_url)
    try:
        for i in range(5):
            assert attempt(engine if i % 2 else other_process, "opfer", f"v{i}", ATTACKER) == "falsch"
        assert attempt(other_process, "opfer", "v5", ATTACKER) == "gesperrt"
        assert attempt(engine, "opfer", "v6", ATTACKER) == "gesperrt"
    finally:
        other_process.close()


def test_refused_tries_are_one_summary_per_name_or_address_and_block(engine: Engine, make_user: UserFactory) -> None:
    make_user("opfer", ("EGS", "56.4"))
    start = clock.wall_now()
    with clock.wall_frozen(start):
        for i in range(5):
            assert attempt(engine, "opfer", f"v{i}", ATTACKER) == "falsch"  # the name is blocked for 2 s
        assert [attempt(engine, "opfer", "v", ATTACKER) for _ in range(40)] == ["gesperrt"] * 40
        for n in range(5):
            assert attempt(engine, f"name{n}", "v", ATTACKER) == "falsch"  # 10 failures: the address is blocked
        assert [attempt(engine, f"name{n}", "v", ATTACKER) for n in range(25)] == ["gesperrt"] * 25
    assert audit_events(engine, "login_throttled") == [], "not one row per refused try"

    with clock.wall_frozen(start + timedelta(seconds=5)):
        engine.housekeeping()

    summaries = {(e.actor, e.details["bereich"], e.details["abgewiesen"], e.details.get("adresse"))
                 for e in audit_events(engine, "login_throttled")}  # fmt: skip
    assert summaries == {("opfer", "benutzer", 40, None), ("?", "adresse", 25, ATTACKER)}
    assert len(audit_events(engine, "login_failed")) == 10


def test_housekeeping_summarises_and_forgets(engine: Engine, make_user: UserFactory) -> None:
    make_user("opfer", ("EGS", "56.4"))
    start = clock.wall_now()
    with clock.wall_frozen(start):
        for i in range(5):
            attempt(engine, "opfer", f"v{i}", ATTACKER)
        refused = [attempt(engine, "opfer", "v", ATTACKER) for _ in range(30)]
    assert refused == ["gesperrt"] * 30

    with clock.wall_frozen(start + timedelta(seconds=10)):
        engine.housekeeping()
    [summary] = audit_events(engine, "login_throttled")
    assert summary.actor == "opfer"
    assert summary.details["bereich"] == "benutzer" and summary.details["abgewiesen"] == 30
    with engine.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 2, "failures still counted"

    with clock.wall_frozen(start + timedelta(hours=2)):
        engine.housekeeping()
    with engine.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0, "and forgotten later"
    assert len(audit_events(engine, "login_throttled")) == 1


def test_a_success_gives_back_only_its_own_try(engine: Engine, make_user: UserFactory) -> None:
    make_user("opfer", ("EGS", "56.4"))
    make_user("boese", ("EGS", "56.4"))
    for i in range(4):
        assert attempt(engine, "opfer", f"v{i}", ATTACKER) == "falsch"
    assert attempt(engine, "boese", PASSWORD, ATTACKER) == "ok"  # their own valid account
    with engine.db.reading() as session:
        rows = {row.key: row.failures for row in session.scalars(sa.select(LoginThrottle))}
    assert rows[address_key(ATTACKER)] == 4, "the address keeps the failures for other names"
    assert rows[user_key("opfer")] == 4 and rows[user_key("boese")] == 0
    assert attempt(engine, "opfer", PASSWORD, DESK) == "ok"
    with engine.db.reading() as session:
        assert session.get(LoginThrottle, user_key("opfer")).failures == 4, "the real user does not wash them away"
