import json
import re

import click

from aitbc_cli.django_env import django_setup, require_databases

ROLES = ("client", "miner", "admin", "service")
DURATION = re.compile(r"^(\d+)([smhd])$")


def expiry(text: str | None):
    """`30d`, `12h`, `90m`, `3600s` -> a moment that far from now (None: never)."""
    if not text:
        return None
    from datetime import timedelta

    from django.utils import timezone

    match = DURATION.match(text.strip())
    if not match:
        raise click.BadParameter(f"{text!r}: write a number and s, m, h or d, e.g. 30d")
    seconds = int(match[1][:12]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
    try:
        return timezone.now() + timedelta(seconds=seconds)
    except OverflowError:
        raise click.BadParameter(f"{text!r} is further away than any date") from None


def issued_output(issued, as_json: bool, what: str) -> None:
    expires = issued.expires_at.isoformat() if issued.expires_at else None
    if as_json:
        payload = {"principal_id": str(issued.principal_id), "key_id": str(issued.key_id), "key": issued.key}
        click.echo(json.dumps({**payload, "expires_at": expires}))
        return
    click.echo(f"{what}{f', expires {expires}' if expires else ''}; keep this key, it is not shown again:")
    click.echo(issued.key)


@click.group()
def keys():
    """Principals and their API keys."""


@keys.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True)
@click.option("--expires-in", help="e.g. 30d, 12h (default: never).")
@click.option("--json", "as_json", is_flag=True, help='Print {"principal_id", "key", ...}.')
def keys_create(role, name, expires_in, as_json):
    """Create a principal and its API key. The key is printed once (last line) and only its hash is kept."""
    django_setup()
    require_databases(["default"])
    from aitbc_site.errors import ApiError
    from apps.accounts.services import principal_create

    try:
        issued = principal_create(name=name, role=role, expires_at=expiry(expires_in))
    except ApiError as exc:  # the service's own refusals (a name it cannot store, an expiry beyond its years)
        raise click.ClickException(exc.detail) from None
    issued_output(issued, as_json, f"principal {issued.principal_id} ({role} {name!r})")


@keys.command("rotate")
@click.argument("principal_id", type=click.UUID)
@click.option("--expires-in", help="e.g. 30d (default: never).")
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(principal_id, expires_in, as_json):
    """A new key for a principal; the old ones keep working until revoked (`keys revoke ID --key KEY_ID`)."""
    django_setup()
    require_databases(["default"])
    from aitbc_site.errors import ApiError
    from apps.accounts.services import api_key_rotate

    try:
        issued = api_key_rotate(principal_id=principal_id, expires_at=expiry(expires_in))
    except ApiError as exc:
        raise click.ClickException(exc.detail) from None
    issued_output(issued, as_json, f"new key {issued.key_id} for {principal_id}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
def keys_list(as_json):
    """Every principal, its role and how many live keys it has."""
    django_setup()
    require_databases(["default"])
    from apps.accounts.selectors import principal_list

    rows = [
        {
            "principal_id": str(p.id),
            "name": p.name,
            "role": p.role,
            "active": p.is_active,
            "live_keys": p.live_keys,
            "created_at": p.created_at.isoformat(),
        }
        for p in principal_list()
    ]
    if as_json:
        click.echo(json.dumps({"items": rows, "count": len(rows)}))
        return
    click.echo(f"{'PRINCIPAL':36}  {'ROLE':8}  {'KEYS':>4}  {'ACTIVE':6}  NAME")
    for r in rows:
        click.echo(
            f"{r['principal_id']:36}  {r['role']:8}  {r['live_keys']:>4}  {str(r['active']).lower():6}  {r['name']}"
        )


@keys.command("revoke")
@click.argument("principal_id", type=click.UUID)
@click.option("--key", "key_id", type=click.UUID, help="Revoke only this key (default: every key, and the principal).")
@click.option("--json", "as_json", is_flag=True)
def keys_revoke(principal_id, key_id, as_json):
    """Revoke a principal's keys (or one of them); requests with them get 401 from now on."""
    django_setup()
    require_databases(["default"])
    from aitbc_site.errors import NotFound
    from apps.accounts.services import api_key_revoke, principal_revoke

    try:
        if key_id:
            api_key_revoke(principal_id=principal_id, key_id=key_id)
            revoked = 1
        else:
            revoked = principal_revoke(principal_id=principal_id)
    except NotFound as exc:
        raise click.ClickException(exc.detail) from None
    if as_json:
        click.echo(json.dumps({"principal_id": str(principal_id), "revoked_keys": revoked}))
    else:
        click.echo(f"revoked {revoked} key(s) of {principal_id}")
