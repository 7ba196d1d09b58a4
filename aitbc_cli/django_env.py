"""Starting Django from the CLI, with errors a person can read."""

import os

import click

from aitbc_site.domains import service_database


def django_setup(service: str | None = None) -> None:
    if service:
        os.environ["AITBC_SERVICE"] = service
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")
    import django

    django.setup()


def close_database_connections() -> None:
    """Before a fork or exec: no pooled connection may be shared with a child."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()


def postgres_params(settings_dict: dict, dbname: str | None = None) -> dict:
    """psycopg.connect() arguments for one of Django's PostgreSQL databases."""
    return {
        "host": settings_dict["HOST"],
        "port": settings_dict["PORT"] or 5432,
        "user": settings_dict["USER"],
        "password": settings_dict["PASSWORD"] or None,
        "dbname": dbname or settings_dict["NAME"],
        "connect_timeout": 3,
        "autocommit": True,
    }


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def database_answer(alias: str) -> str:
    """ "ok", or why the database does not answer (PostgreSQL is asked directly, not through the pool)."""
    import psycopg
    from django.db import connections

    from aitbc_site.health import database_check

    settings_dict = connections[alias].settings_dict
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        return database_check(alias).removeprefix("error: ")
    try:
        psycopg.connect(**postgres_params(settings_dict)).close()
    except psycopg.Error as exc:
        return first_line(exc)
    return "ok"


def require_databases(aliases) -> None:
    """Fails with one line when a database does not answer."""
    from django.db import connections

    for alias in dict.fromkeys(aliases):
        result = database_answer(alias)
        if result != "ok":
            settings_dict = connections[alias].settings_dict
            host = settings_dict.get("HOST")
            where = (
                f"{host}:{settings_dict.get('PORT') or 5432}/{settings_dict['NAME']}" if host else settings_dict["NAME"]
            )
            raise click.ClickException(f"database {alias!r} at {where} does not answer: {result}")


def require_service_databases(service: str) -> None:
    require_databases(["default", service_database(service)])
