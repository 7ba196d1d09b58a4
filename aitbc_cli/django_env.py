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


def require_databases(aliases) -> None:
    """Fails with one line when a database does not answer."""
    from django.db import connections

    from aitbc_site.health import database_check

    for alias in dict.fromkeys(aliases):
        result = database_check(alias)
        if result != "ok":
            settings = connections[alias].settings_dict
            where = settings.get("HOST") and f"{settings['HOST']}:{settings.get('PORT') or 5432}" or settings["NAME"]
            raise click.ClickException(f"database {alias!r} at {where} does not answer: {result.removeprefix('error: ')}")


def require_service_databases(service: str) -> None:
    require_databases(["default", service_database(service)])
