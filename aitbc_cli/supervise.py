"""`aitbc up`: every process of the stack as a child of supervisord (restarts with backoff, stops together)."""

import click
from django.conf import settings

from aitbc_cli.processes import flower_basic_auth
from aitbc_site.domains import SERVICES

PROGRAM = """
[program:{name}]
command={command}
autostart=true
autorestart=true
startsecs=3
startretries=20
stopasgroup=true
killasgroup=true
stopsignal=TERM
stopwaitsecs=10
redirect_stderr=true
stdout_logfile={log}
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=2
"""

SUPERVISORD = """
[supervisord]
nodaemon=true
logfile={run}/supervisord.log
logfile_maxbytes=10MB
loglevel=info
pidfile={run}/supervisord.pid
childlogdir={log}

[unix_http_server]
file={run}/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{run}/supervisor.sock
"""


def stack_programs(python: str) -> dict[str, str]:
    """Process name -> command line, for every process of the stack."""
    programs = {name: f"{python} -m aitbc_cli serve {name}" for name in SERVICES}
    programs["worker"] = f"{python} -m aitbc_cli worker"
    programs["beat"] = f"{python} -m aitbc_cli beat"
    programs["flower"] = f"{python} -m aitbc_cli flower"
    return programs


def supervisord_config(python: str) -> str:
    run, log = settings.AITBC_HOME / "run", settings.AITBC_HOME / "log"
    run.mkdir(exist_ok=True)
    log.mkdir(exist_ok=True)
    config = SUPERVISORD.format(run=run, log=log)
    for name, command in stack_programs(python).items():
        config += PROGRAM.format(name=name, command=command, log=log / f"{name}.log")
    path = run / "supervisord.conf"
    path.write_text(config)
    return str(path)


def stack_table() -> str:
    host = settings.AITBC_SERVICE_HOST
    lines = [f"{'process':12} where"]
    for name, port in settings.AITBC_SERVICE_PORTS.items():
        lines.append(f"{name:12} http://{host}:{port}/  (health: /health, API docs: /v1/docs)")
    user = flower_basic_auth(settings).split(":", 1)[0]
    password = "from AITBC_FLOWER_BASIC_AUTH" if settings.AITBC_FLOWER_BASIC_AUTH else "in AITBC_HOME/flower_password"
    lines.append(f"{'flower':12} http://{host}:{settings.AITBC_FLOWER_PORT}/  (user {user!r}, password {password})")
    lines.append(f"{'worker':12} Celery, queues from aitbc_site/queues.py")
    lines.append(f"{'beat':12} Celery beat, aitbc_site/schedule.py")
    lines.append(
        f"logs in {settings.AITBC_HOME / 'log'}; admin at http://{host}:{settings.AITBC_SERVICE_PORTS['gateway']}/admin/"
    )
    return "\n".join(lines)


def stack_run(*, python: str, environ: dict) -> None:
    from supervisor import supervisord

    config = supervisord_config(python)
    click.echo(stack_table())
    click.echo("Ctrl-C stops everything; a process that dies is reported below and restarted.")
    supervisord.main(args=["-n", "-c", config])
