import click

from aitbc_cli.django_env import django_setup, first_line, postgres_params, require_databases


def database_create_missing(alias: str) -> bool:
    """Creates a PostgreSQL database when the server has none of that name; True when it did."""
    import psycopg
    from django.db import connections
    from psycopg import sql

    settings = connections[alias].settings_dict
    if settings["ENGINE"] != "django.db.backends.postgresql":
        return False
    params = postgres_params(settings, dbname="postgres")
    try:
        with psycopg.connect(**params) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]).fetchone()
            if exists:
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))
            return True
    except psycopg.OperationalError as exc:
        where = f"{params['host']}:{params['port']}"
        raise click.ClickException(f"database server {where} does not answer: {first_line(exc)}") from None


@click.group()
def db():
    """Databases: one per domain."""


@db.command("migrate")
@click.option("--quiet", is_flag=True, help="Print only what changed.")
def db_migrate(quiet):
    """Create missing databases and apply every migration, each app into its own database."""
    django_setup()
    from django.core.management import call_command
    from django.db import connections

    for alias in connections:
        if database_create_missing(alias):
            click.echo(f"created database {connections[alias].settings_dict['NAME']} ({alias})")
    require_databases(connections)
    for alias in connections:
        if not quiet:
            click.echo(f"migrating {alias}")
        call_command("migrate", database=alias, interactive=False, verbosity=0 if quiet else 1)
