"""The long-running processes: one service, the control-plane worker, beat, Flower, and `up` for all."""

import os
import secrets
import shutil
import sys

import click

from aitbc_cli.django_env import close_database_connections, django_setup, require_service_databases
from aitbc_site.domains import SERVICES

ASGI_TARGETS = {"gateway": "gateway.asgi:application"}


def prometheus_multiproc_dir(service: str) -> str:
    """An empty AITBC_HOME/prometheus/<service>, set as PROMETHEUS_MULTIPROC_DIR before any server process
    (or prometheus_client) starts: each of the service's worker processes writes its own metric files
    there, and /metrics adds them up. Emptied at every start, as prometheus_client asks."""
    import environ

    from aitbc_site.config import home_dir

    path = home_dir(environ.Env()) / "prometheus" / service
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return str(path)


@click.command()
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, help="Default: the service's own port (gateway 8080, gpu 8101, ...).")
@click.option("--workers", type=int, help="Server processes (default: AITBC_SERVER_WORKERS, 1).")
def serve(service, host, port, workers):
    """Serve one service under granian (a production ASGI server)."""
    prometheus_multiproc_dir(service)
    django_setup(service)
    from django.conf import settings
    from granian import Granian
    from granian.constants import Interfaces

    require_service_databases(service)
    close_database_connections()
    port = port or settings.AITBC_SERVICE_PORTS[service]
    click.echo(f"aitbc {service} listening on http://{host}:{port}", err=True)
    Granian(
        ASGI_TARGETS.get(service, "aitbc_site.asgi:application"),
        address=host,
        port=port,
        interface=Interfaces.ASGINL,
        workers=workers or settings.AITBC_SERVER_WORKERS,
        log_access=False,
    ).serve()


@click.command()
@click.option("--concurrency", "-c", type=int, help="Worker processes (default: one per CPU).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency, loglevel):
    """The control-plane Celery worker (dispatch, matching, settlement, sealing, sweeps)."""
    django_setup()
    from aitbc_site.celery import app
    from aitbc_site.queues import CONTROL_PLANE_QUEUES

    require_service_databases("gateway")
    close_database_connections()
    argv = ["worker", "-l", loglevel, "-Q", ",".join(CONTROL_PLANE_QUEUES), "-E", "-n", "control@%h"]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    app.worker_main(argv)


@click.command()
@click.option("--loglevel", default="INFO", show_default=True)
def beat(loglevel):
    """Celery beat: the periodic tasks of aitbc_site/schedule.py."""
    django_setup()
    from django.conf import settings

    from aitbc_site.celery import app

    app.start(["beat", "-l", loglevel, "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME])


def flower_basic_auth(settings) -> str:
    """AITBC_FLOWER_BASIC_AUTH, or admin with a password made once and kept in AITBC_HOME."""
    if settings.AITBC_FLOWER_BASIC_AUTH:
        return settings.AITBC_FLOWER_BASIC_AUTH
    path = settings.AITBC_HOME / "flower_password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(12))
    return f"admin:{path.read_text().strip()}"


@click.command()
@click.option("--port", type=int, help="Default 5555.")
@click.option("--host", default="127.0.0.1", show_default=True)
def flower(port, host):
    """Flower, the Celery monitor, behind basic auth (AITBC_FLOWER_BASIC_AUTH=user:password)."""
    django_setup()
    from django.conf import settings

    from aitbc_site.celery import app

    port = port or settings.AITBC_FLOWER_PORT
    if ":" not in flower_basic_auth(settings):
        raise click.ClickException("AITBC_FLOWER_BASIC_AUTH must look like user:password")
    app.start(["flower", f"--address={host}", f"--port={port}", f"--basic-auth={flower_basic_auth(settings)}"])


@click.command()
@click.option("--no-migrate", is_flag=True, help="Skip `aitbc db migrate` before starting.")
def up(no_migrate):
    """The whole stack in the foreground: every service, a worker, beat and Flower. Ctrl-C stops it all."""
    from aitbc_cli.supervise import stack_run

    if not no_migrate:
        from aitbc_cli.db import db_migrate

        db_migrate.callback(quiet=True)
    django_setup()
    close_database_connections()
    stack_run(python=sys.executable, environ=dict(os.environ))
