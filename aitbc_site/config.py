"""Turns AITBC_* environment variables into Django database and broker settings.

Kept apart from settings.py so the CLI and the tests can call it with their own environment.
"""

import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from aitbc_site.domains import DATABASE_ALIASES, DOMAINS

POSTGRES_SCHEMES = ("postgres", "postgresql")


def home_dir(env: environ.Env) -> Path:
    home = Path(env.str("AITBC_HOME", default="var")).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def secret_from_file(path: Path, nbytes: int = 48) -> str:
    """A secret kept in AITBC_HOME, made on first use, readable by the owner only.

    Several processes may start at once: the file appears whole (hard link of a finished file) and
    the first one wins, so they all end up with the same secret.
    """
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(nbytes))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def _postgres_config(url: str, variable: str, *, pool_max: int) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES or not parts.hostname or parts.path.strip("/") == "":
        raise ImproperlyConfigured(f"{variable} must look like postgres://USER@HOST:PORT/NAME, got {url!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError:
        raise ImproperlyConfigured(f"{variable} has an invalid port: {url!r}") from None
    config = environ.Env.db_url_config(url)
    config["ENGINE"] = "django.db.backends.postgresql"
    config.setdefault("OPTIONS", {})
    config["OPTIONS"].setdefault("connect_timeout", 3)
    # psycopg 3's pool: a few connections per process and database, opened on demand and closed after a
    # minute unused, so that a burst does not keep PostgreSQL's connection slots (100 by default) taken.
    config["OPTIONS"]["pool"] = {"min_size": 0, "max_size": pool_max, "timeout": 10, "max_idle": 60}
    config["CONN_MAX_AGE"] = 0
    return config


def _sqlite_config(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # several processes share each file: WAL and a busy timeout keep writers from failing
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # on disk, so that processes started by the tests can share the test databases
        "TEST": {"NAME": str(path.with_name(f"test_{path.name}"))},
    }


def _override_config(url: str, variable: str, *, pool_max: int) -> dict:
    if url.startswith("sqlite:///"):
        return _sqlite_config(Path(url.removeprefix("sqlite:///")))  # sqlite:////abs/path.sqlite3
    return _postgres_config(url, variable, pool_max=pool_max)


def database_settings(env: environ.Env, home: Path) -> dict:
    """`default` plus one database per domain.

    AITBC_DATABASE_URL=postgres://USER@HOST:PORT/NAME puts `default` in NAME and each domain in
    NAME_<domain> on the same server; AITBC_DATABASE_URL_<DOMAIN> replaces one. Nothing set:
    SQLite files under AITBC_HOME.
    """
    pool_max = env.int("AITBC_DB_POOL_MAX", default=4)
    url = env.str("AITBC_DATABASE_URL", default="")
    databases = {}
    if url:
        base = _postgres_config(url, "AITBC_DATABASE_URL", pool_max=pool_max)
        databases["default"] = base
        for domain in DOMAINS:
            databases[domain] = {**base, "OPTIONS": {**base["OPTIONS"]}, "NAME": f"{base['NAME']}_{domain}"}
    else:
        for alias in DATABASE_ALIASES:
            databases[alias] = _sqlite_config(home / f"{alias}.sqlite3")
    for alias in DATABASE_ALIASES:
        variable = f"AITBC_DATABASE_URL_{alias.upper()}"
        override = env.str(variable, default="")
        if override:
            databases[alias] = _override_config(override, variable, pool_max=pool_max)
    return databases


def broker_settings(env: environ.Env, home: Path) -> dict:
    """Redis when AITBC_REDIS_URL is set; otherwise kombu's filesystem transport under AITBC_HOME.

    The filesystem broker still runs tasks in separate worker processes, with events and remote
    control (fanout) for Flower.
    """
    redis_url = env.str("AITBC_REDIS_URL", default="")
    if redis_url:
        if urlsplit(redis_url).scheme not in ("redis", "rediss"):
            raise ImproperlyConfigured(f"AITBC_REDIS_URL must look like redis://HOST:PORT/DB, got {redis_url!r}")
        miner_url = env.str("AITBC_MINER_BROKER_URL", default="")
        if miner_url and urlsplit(miner_url).scheme not in ("redis", "rediss"):
            raise ImproperlyConfigured(f"AITBC_MINER_BROKER_URL must look like redis://HOST:PORT/DB, got {miner_url!r}")
        return {
            "broker_url": redis_url,
            "result_backend": redis_url,
            "broker_transport_options": {"socket_connect_timeout": 2, "visibility_timeout": 3600},
            "miner_broker_url": miner_url,
        }
    broker = home / "broker"
    folders = {name: broker / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    results = home / "results"
    results.mkdir(exist_ok=True)
    return {
        "broker_url": "filesystem://",
        "result_backend": f"file://{results}",
        "broker_transport_options": {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "store_processed": False,
            "control_folder": str(folders["control"]),
        },
        "miner_broker_url": "",
    }
