"""Sends every model to its domain's database; refuses relations across databases."""

from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from aitbc_site.domains import APP_DATABASES


def database_for_app(app_label: str) -> str:
    try:
        return APP_DATABASES[app_label]
    except KeyError:
        raise ImproperlyConfigured(
            f"app {app_label!r} has no database: add it to aitbc_site.domains.APP_DATABASES"
        ) from None


class DomainRouter:
    def db_for_read(self, model, **hints):
        return database_for_app(model._meta.app_label)

    def db_for_write(self, model, **hints):
        return database_for_app(model._meta.app_label)

    def allow_relation(self, obj1, obj2, **hints):
        # where each object actually lives (an instance may have been loaded with .using())
        db1 = obj1._state.db or database_for_app(obj1._meta.app_label)
        db2 = obj2._state.db or database_for_app(obj2._meta.app_label)
        return db1 == db2

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return database_for_app(app_label) == db


def connections_release() -> None:
    """Hands this thread's database connections back to their pools now, not at the end of the request: for
    an async view that waits between queries (a long-poll), whose connections would otherwise stay taken."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
