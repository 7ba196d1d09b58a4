"""The `aitbc` command."""

import sys

import click
from django.core.exceptions import ImproperlyConfigured

from aitbc_cli.db import db
from aitbc_cli.django_env import first_line
from aitbc_cli.explorer import explorer
from aitbc_cli.gov import gov
from aitbc_cli.hermes import hermes
from aitbc_cli.jobs import job
from aitbc_cli.keys import keys
from aitbc_cli.market import market
from aitbc_cli.miner import miner
from aitbc_cli.monitor import monitor
from aitbc_cli.plugin import plugin
from aitbc_cli.processes import beat, flower, serve, up, worker
from aitbc_cli.trade import trade
from aitbc_cli.wallet import wallet
from aitbc_cli.workflow import workflow


@click.group()
@click.version_option("0.1.0", prog_name="aitbc")
def cli():
    """AITBC: a GPU compute marketplace for AI work."""


cli.add_command(serve)
cli.add_command(worker)
cli.add_command(beat)
cli.add_command(flower)
cli.add_command(up)
cli.add_command(db)
cli.add_command(keys)
cli.add_command(job)
cli.add_command(miner)
cli.add_command(wallet)
cli.add_command(explorer)
cli.add_command(trade)
cli.add_command(market)
cli.add_command(hermes)
cli.add_command(workflow)
cli.add_command(gov)
cli.add_command(monitor)
cli.add_command(plugin)


def main():
    from django.db.utils import OperationalError

    try:
        cli(standalone_mode=True)
    except ImproperlyConfigured as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OperationalError as exc:
        click.echo(f"error: the database does not answer: {first_line(exc)}", err=True)
        sys.exit(1)
