"""Users for tests: a factory with (group, site) grants, and a user for every lane and site."""

from __future__ import annotations

from collections.abc import Callable

from engine.api import Engine
from engine.auth import Actor, create_user, hash_password
from engine.errors import AuthenticationError

PASSWORD = "pw"
_HASH = hash_password(PASSWORD)  # one scrypt run for every test user
DEMO_BY_LANE = {"EGS": "egs", "LSB": "lsb", "IFK": "ifk", "TL": "tl", "FDL": "fdl"}

UserFactory = Callable[..., Actor]


def user_factory(engine: Engine) -> UserFactory:
    """A function creating users with password 'pw' and (group, site) grants; it returns their Actor."""

    def factory(username: str, *grants: tuple[str, str]) -> Actor:
        with engine.db.transaction() as session:
            create_user(session, username, username.title(), PASSWORD, list(grants), password_hash=_HASH)
        return engine.actor(username)

    return factory


def user_for(engine: Engine, lane: str, site: str) -> Actor:
    """A user who works ``lane`` at ``site`` (demo user at 56.4, else created on first use as ``<lane>_<site>``)."""
    if site == "56.4" and lane in DEMO_BY_LANE:
        return engine.actor(DEMO_BY_LANE[lane])
    if lane == "FB50" and site == "56.6":
        return engine.actor("fb50")
    username = f"{lane.lower()}_{site}"
    try:
        return engine.actor(username)
    except AuthenticationError:
        with engine.db.transaction() as session:
            create_user(session, username, f"{lane} {site}", PASSWORD, [(lane, site)], password_hash=_HASH)
        return engine.actor(username)
