import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from aitbc_site.config import broker_settings, database_settings


def env_of(monkeypatch, **values):
    for name in list(__import__("os").environ):
        if name.startswith("AITBC_DATABASE_URL") or name == "AITBC_REDIS_URL":
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return environ.Env()


def test_a_postgres_url_puts_each_domain_in_its_own_database_on_that_server(monkeypatch, tmp_path):
    env = env_of(monkeypatch, AITBC_DATABASE_URL="postgres://aitbc@db.example:5433/aitbc")
    databases = database_settings(env, tmp_path)
    assert databases["default"]["NAME"] == "aitbc"
    assert databases["gpu"]["NAME"] == "aitbc_gpu"
    assert databases["marketplace"]["NAME"] == "aitbc_marketplace"
    assert {db["HOST"] for db in databases.values()} == {"db.example"}
    assert {db["PORT"] for db in databases.values()} == {5433}
    assert databases["ai"]["OPTIONS"]["pool"]["max_size"] > 0  # psycopg 3 pool


def test_a_per_domain_variable_replaces_one_database(monkeypatch, tmp_path):
    env = env_of(
        monkeypatch,
        AITBC_DATABASE_URL="postgres://aitbc@db1:5432/aitbc",
        AITBC_DATABASE_URL_TRADING="postgres://ledger@db2:5432/money",
    )
    databases = database_settings(env, tmp_path)
    assert (databases["trading"]["HOST"], databases["trading"]["NAME"]) == ("db2", "money")
    assert (databases["gpu"]["HOST"], databases["gpu"]["NAME"]) == ("db1", "aitbc_gpu")


def test_nothing_set_means_sqlite_files_under_aitbc_home(monkeypatch, tmp_path):
    databases = database_settings(env_of(monkeypatch), tmp_path)
    assert databases["default"]["NAME"] == str(tmp_path / "default.sqlite3")
    assert databases["hermes"]["NAME"] == str(tmp_path / "hermes.sqlite3")
    assert broker_settings(env_of(monkeypatch), tmp_path)["broker_url"] == "filesystem://"


@pytest.mark.parametrize(
    "url", ["not a url", "mysql://root@localhost/aitbc", "postgres://localhost", "postgres://u@h:port/db"]
)
def test_a_malformed_database_url_is_refused_with_the_variable_named(monkeypatch, tmp_path, url):
    with pytest.raises(ImproperlyConfigured, match="AITBC_DATABASE_URL"):
        database_settings(env_of(monkeypatch, AITBC_DATABASE_URL=url), tmp_path)


def test_a_malformed_redis_url_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="AITBC_REDIS_URL"):
        broker_settings(env_of(monkeypatch, AITBC_REDIS_URL="localhost:6379"), tmp_path)
