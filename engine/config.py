"""Engine settings: one declared table, defaults in code, overridden by EGS_* environment variables.

This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from . import audit_keys
from .errors import ConfigurationError
from .jail import JailLimits


@dataclass(frozen=True)
class Setting:
    """One configuration value: environment variable, default and help text (German for operators)."""

    env: str
    field: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "EGS_DATABASE_URL",
        "database_url",
        "sqlite:///var/egs.sqlite3",
        "SQLAlchemy-URL der Datenbank; SQLite (Standard) oder postgresql+psycopg://…",
    ),
    Setting(
        "EGS_SECRET_KEY",
        "secret_key",
        "",
        "Schlüssel für Sitzungen und CSRF; in Produktion Pflicht, sonst wird einer in var/ erzeugt",
    ),
    Setting("EGS_ENV", "env", "development", "development oder production (production: keine Demo-Benutzer)"),
    Setting("EGS_PROCESSES_DIR", "processes_dir", "processes", "Verzeichnis der BPMN/DMN-Modelle"),
    Setting("EGS_FORMS_DIR", "forms_dir", "forms", "Verzeichnis der Formulare (JSON Schema)"),
    Setting("EGS_CONFIG_FILE", "config_file", "config/egs.toml", "Fachliche Konfiguration (Fristen, Sätze, Stichtage)"),
    Setting("EGS_MAX_MODEL_BYTES", "max_model_bytes", "5242880", "Maximale Größe einer Modelldatei in Bytes"),
    Setting("EGS_MAX_FORM_BYTES", "max_form_bytes", "262144", "Maximale Größe einer Formulardatei in Bytes"),
    Setting("EGS_SCRIPT_TIMEOUT", "script_timeout", "1.0", "Zeitlimit je Skript/Ausdruck in Sekunden"),
    Setting("EGS_WORKER_INTERVAL", "worker_interval", "5.0", "Abfrageintervall des Timer-Workers in Sekunden"),
    Setting("EGS_JAIL_PROCESSES", "jail_processes", "2", "Jail-Prozesse für Modellcode je Web-/Worker-Prozess"),
    Setting("EGS_JAIL_STEP_SECONDS", "jail_step_seconds", "10", "Zeitlimit (Wanduhr) je Schritt im Jail, in Sekunden"),
    Setting("EGS_JAIL_CPU_SECONDS", "jail_cpu_seconds", "5", "Rechenzeit je Schritt im Jail, in Sekunden"),
    Setting("EGS_JAIL_MEMORY_MB", "jail_memory_mb", "1024", "Adressraum eines Jail-Prozesses in MB"),
    Setting(
        "EGS_DEFAULT_SITE",
        "default_site",
        "56.4",
        "Standort für Vorgänge, die ohne Standort gestartet werden",
    ),
    Setting(
        "EGS_SESSION_IDLE_MINUTES",
        "session_idle_minutes",
        "30",
        "Minuten ohne Aktivität, nach denen eine Sitzung endet (automatische Aktualisierungen zählen nicht)",
    ),
    Setting(
        "EGS_SESSION_MAX_HOURS",
        "session_max_hours",
        "9",
        "Stunden, nach denen jede Sitzung endet, auch wenn sie genutzt wird (ein Arbeitstag)",
    ),
    Setting(
        "EGS_AUDIT_KEY",
        "audit_key",
        "",
        "Schlüssel der Audit-Ketten (HMAC), nicht in der Datenbank; sonst aus EGS_AUDIT_KEY_FILE",
    ),
    Setting(
        "EGS_AUDIT_KEY_FILE",
        "audit_key_file",
        "var/audit_key",
        "Datei mit dem Schlüssel der Audit-Ketten (in Produktion Pflicht, wenn EGS_AUDIT_KEY leer ist)",
    ),
    Setting(
        "EGS_AUDIT_ANCHOR_DIR",
        "audit_anchor_dir",
        "var/audit-anker",
        "Verzeichnis außerhalb der Datenbank für Anker und tägliches Prüfprotokoll (nur anhängen)",
    ),
    Setting(
        "EGS_AUDIT_ANCHOR_MINUTES",
        "audit_anchor_minutes",
        "60",
        "Minuten zwischen zwei Ankern, die der Timer-Worker schreibt",
    ),
    Setting("EGS_METRICS_TOKEN", "metrics_token", "", "Bearer-Token für /metrics (leer: nur von localhost)"),
    Setting("EGS_LOG_LEVEL", "log_level", "INFO", "Log-Level (Logs enthalten keine personenbezogenen Daten)"),
    Setting("EGS_SMTP_HOST", "smtp_host", "", "SMTP-Server für E-Mail-Benachrichtigungen (leer: kein Versand)"),
    Setting("EGS_SMTP_PORT", "smtp_port", "25", "Port des SMTP-Servers"),
    Setting("EGS_SMTP_STARTTLS", "smtp_starttls", "0", "1: STARTTLS vor der Anmeldung am SMTP-Server"),
    Setting("EGS_SMTP_USER", "smtp_user", "", "Benutzer am SMTP-Server (leer: ohne Anmeldung)"),
    Setting("EGS_SMTP_PASSWORD", "smtp_password", "", "Passwort am SMTP-Server"),
    Setting("EGS_MAIL_FROM", "mail_from", "egs-prozessplattform@localhost", "Absender der Benachrichtigungen"),
    Setting("EGS_MAIL_DOMAIN", "mail_domain", "", "Nur Adressen dieser Domain sind erlaubt (leer: jede)"),
    Setting("EGS_MAIL_DIGEST_HOUR", "mail_digest_hour", "7", "Stunde (Europe/Berlin) der täglichen Zusammenfassung"),
    Setting("EGS_PUBLIC_URL", "public_url", "http://127.0.0.1:5000", "Adresse der Anwendung für Links in E-Mails"),
)


@dataclass(frozen=True)
class EngineSettings:
    """Typed settings used by the engine and the web app."""

    database_url: str
    secret_key: str
    env: str
    processes_dir: Path
    forms_dir: Path
    config_file: Path
    max_model_bytes: int
    max_form_bytes: int
    script_timeout: float
    worker_interval: float
    default_site: str
    log_level: str
    jail_processes: int = 2
    jail_step_seconds: float = 10.0
    jail_cpu_seconds: float = 5.0
    jail_memory_mb: int = 1024
    metrics_token: str = ""
    session_idle_minutes: float = 30.0
    session_max_hours: float = 9.0
    audit_key: str = ""
    audit_key_file: Path = Path("var/audit_key")
    audit_keys: tuple[str, ...] = ()  # every key ever used, oldest first (``audit_keys``); the last is ``audit_key``
    audit_anchor_dir: Path = Path("var/audit-anker")
    audit_anchor_minutes: float = 60.0
    smtp_host: str = ""  # empty: no e-mail at all
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "egs-prozessplattform@localhost"
    mail_domain: str = ""
    mail_digest_hour: int = 7
    public_url: str = "http://127.0.0.1:5000"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def jail_limits(self) -> JailLimits:
        """What one jail process (model code) may use."""
        return JailLimits(
            processes=max(1, self.jail_processes),
            step_seconds=self.jail_step_seconds,
            memory_bytes=self.jail_memory_mb * 1024 * 1024,
            cpu_seconds=self.jail_cpu_seconds,
        )


_CONVERTERS: dict[str, Any] = {
    "max_model_bytes": int,
    "max_form_bytes": int,
    "script_timeout": float,
    "worker_interval": float,
    "jail_processes": int,
    "jail_step_seconds": float,
    "jail_cpu_seconds": float,
    "jail_memory_mb": int,
    "session_idle_minutes": float,
    "session_max_hours": float,
    "audit_key_file": Path,
    "audit_anchor_dir": Path,
    "audit_anchor_minutes": float,
    "smtp_port": int,
    "smtp_starttls": lambda value: str(value).strip().lower() in ("1", "true", "ja", "yes"),
    "mail_digest_hour": int,
    "processes_dir": Path,
    "forms_dir": Path,
    "config_file": Path,
}


def load_settings(overrides: Mapping[str, Any] | None = None) -> EngineSettings:
    """Build settings from defaults, the environment and explicit overrides (field names as keys).

    :raises ConfigurationError: on values that cannot be converted or a missing production secret.
    """
    raw: dict[str, Any] = {}
    for setting in SETTINGS:
        raw[setting.field] = os.environ.get(setting.env, setting.default)
    known = {f.name for f in fields(EngineSettings)}
    for key, value in (overrides or {}).items():
        if key not in known:
            raise ConfigurationError(f"Unbekannte Einstellung: {key}")
        raw[key] = value
    values: dict[str, Any] = {}
    for key, value in raw.items():
        convert = _CONVERTERS.get(key)
        try:
            keep = convert is None or (isinstance(convert, type) and isinstance(value, convert))
            values[key] = value if convert is None or keep or isinstance(value, bool) else convert(value)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"Ungültiger Wert für {key}: {value!r}") from exc
    if values["env"] not in ("development", "production", "test"):
        raise ConfigurationError("EGS_ENV muss development, production oder test sein")
    if values["session_idle_minutes"] <= 0 or values["session_max_hours"] <= 0:
        raise ConfigurationError("EGS_SESSION_IDLE_MINUTES und EGS_SESSION_MAX_HOURS müssen größer als 0 sein")
    if not 0 <= values["mail_digest_hour"] <= 23:
        raise ConfigurationError("EGS_MAIL_DIGEST_HOUR muss eine Stunde von 0 bis 23 sein")
    values["database_url"] = _absolute_sqlite_url(str(values["database_url"]))
    if not values["secret_key"]:
        if values["env"] == "production":
            raise ConfigurationError("EGS_SECRET_KEY muss in Produktion gesetzt sein")
        values["secret_key"] = _development_secret()
    values["audit_keys"] = _audit_keys(values)
    values["audit_key"] = values["audit_keys"][-1]
    return EngineSettings(**values)


TEST_AUDIT_KEY = "egs-test-audit-key"  # only EGS_ENV=test without a key of its own; never production


def _audit_keys(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The HMAC keys of the audit chains, oldest first: EGS_AUDIT_KEY alone, else the key file (``audit_keys``:
    every key ever used, the last one signs). They never go into the database, so whoever can write rows there
    cannot re-compute a chain. Development generates a file; production needs one."""
    if values.get("audit_keys"):
        return tuple(values["audit_keys"])
    if values["audit_key"]:
        return (str(values["audit_key"]),)
    path = Path(values["audit_key_file"])
    if path.exists():
        keys = audit_keys.parse(path.read_text(encoding="utf-8"), f"EGS_AUDIT_KEY_FILE {path}")
        if keys:
            return tuple(keys)
    if values["env"] == "production":
        raise ConfigurationError("EGS_AUDIT_KEY oder EGS_AUDIT_KEY_FILE muss in Produktion gesetzt sein")
    if values["env"] == "test":
        return (TEST_AUDIT_KEY,)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(audit_keys.text_of([key]))
        path.chmod(0o600)
    except FileExistsError:  # another process created it meanwhile
        return tuple(audit_keys.parse(path.read_text(encoding="utf-8")))
    return (key,)


def _absolute_sqlite_url(url: str) -> str:
    """Resolve a relative SQLite path against the working directory and create its folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url == "sqlite://":
        return url
    path = Path(url[len(prefix) :]).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return prefix + str(path)


def _development_secret() -> str:
    """Return a per-checkout random secret stored in var/ so sessions survive restarts."""
    path = Path("var") / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
