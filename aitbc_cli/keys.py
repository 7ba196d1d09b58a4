import json

import click

from aitbc_cli.django_env import django_setup, require_databases

ROLES = ("client", "miner", "admin", "service")


@click.group()
def keys():
    """Principals and their API keys."""


@keys.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True)
@click.option("--json", "as_json", is_flag=True, help='Print {"principal_id", "key"}.')
def keys_create(role, name, as_json):
    """Create a principal and its API key. The key is printed once (last line) and only its hash is kept."""
    django_setup()
    require_databases(["default"])
    from apps.accounts.services import principal_create

    issued = principal_create(name=name, role=role)
    if as_json:
        click.echo(json.dumps({"principal_id": str(issued.principal_id), "key": issued.key}))
        return
    click.echo(f"principal {issued.principal_id} ({role} {name!r}); keep this key, it is not shown again:")
    click.echo(issued.key)


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
@click.option("--json", "as_json", is_flag=True)
def keys_revoke(principal_id, as_json):
    """Revoke every key of a principal; its requests get 401 from now on."""
    django_setup()
    require_databases(["default"])
    from aitbc_site.errors import NotFound
    from apps.accounts.services import principal_revoke

    try:
        revoked = principal_revoke(principal_id=principal_id)
    except NotFound as exc:
        raise click.ClickException(exc.detail) from None
    if as_json:
        click.echo(json.dumps({"principal_id": str(principal_id), "revoked_keys": revoked}))
    else:
        click.echo(f"revoked {revoked} key(s) of {principal_id}")
