import uuid

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router

from aitbc_site.domains import APP_DATABASES, DATABASE_ALIASES, DOMAINS
from aitbc_site.router import DomainRouter
from apps.accounts.models import ApiKey, Principal
from apps.monitoring.models import WorkerProbe


def test_every_model_reads_and_writes_its_own_domain_database():
    for model in apps.get_models():
        expected = APP_DATABASES[model._meta.app_label]
        assert router.db_for_read(model) == expected, model
        assert router.db_for_write(model) == expected, model


def test_each_domain_has_its_own_database_alias():
    assert set(connections) == {"default", *DOMAINS}
    names = {connections[alias].settings_dict["NAME"] for alias in DATABASE_ALIASES}
    assert len(names) == len(DATABASE_ALIASES)


def test_an_app_without_a_database_is_an_error():
    class Meta:
        app_label = "nowhere"

    model = type("Orphan", (), {"_meta": Meta})
    with pytest.raises(ImproperlyConfigured, match="nowhere"):
        DomainRouter().db_for_write(model)


def test_a_relation_across_databases_is_refused():
    assert DomainRouter().allow_relation(Principal(), WorkerProbe()) is False
    assert DomainRouter().allow_relation(Principal(), ApiKey()) is True

    # given a principal that lives in another database than API keys
    stranger = Principal(id=uuid.uuid4(), name="x", role="client")
    stranger._state.db = "monitoring"
    key = ApiKey(prefix="x", key_hash="x")
    key._state.db = "default"
    # when a key is tied to it, then Django refuses through the router
    with pytest.raises(ValueError, match="router prevents this relation"):
        key.principal = stranger


@pytest.mark.django_db(databases="__all__")
def test_migrations_put_each_app_tables_only_in_its_own_database():
    tables_by_alias = {alias: set(connections[alias].introspection.table_names()) for alias in DATABASE_ALIASES}
    for model in apps.get_models():
        home = APP_DATABASES[model._meta.app_label]
        for alias, tables in tables_by_alias.items():
            present = model._meta.db_table in tables
            assert present == (alias == home), f"{model._meta.db_table} in {alias}: {present}"


@pytest.mark.django_db(databases="__all__")
def test_writes_land_in_the_routed_database():
    from django.utils import timezone

    from apps.monitoring.services import worker_probe_record

    probe = worker_probe_record(probe_id=uuid.uuid4(), sent_at=timezone.now())
    assert probe._state.db == "monitoring"
    with connections["monitoring"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM monitoring_workerprobe WHERE hostname = %s", [probe.hostname])
        assert cursor.fetchone()[0] == 1
