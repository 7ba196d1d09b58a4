"""`aitbc plugin ...`: the plugin registry and marketplace (register, list, show, review, yank, analytics),
and `digest`, which computes the sha256 a miner will check for an installed runner plugin."""

import click

from aitbc_cli.client import api_command, emit


@click.group()
def plugin():
    """Runner plugins: pip packages that add job types to miners, registered by their sha256."""


def plugin_line(p: dict) -> str:
    installs, rating = p["installs"], p["rating"]
    stars = f"{rating['average']}/5 ({rating['count']})" if rating["count"] else "no reviews"
    state = "  YANKED" if p["yanked"] else ""
    return (
        f"{p['plugin_id']}  {p['name']} {p['version']}  {p['kind']}  {p['entry_point']}{state}\n"
        f"    sha256 {p['sha256']}\n"
        f"    installs: {installs['verified']} verified, {installs['mismatch']} mismatched; {stars}"
        + (f"\n    {p['description']}" if p.get("description") else "")
    )


def _local_installs(distribution: str, path: tuple[str, ...]):
    from aitbc_miner.plugins import distribution_install

    found = distribution_install(distribution, list(path) or None)
    if not found:
        raise click.ClickException(f"{distribution} is not installed here, or declares no aitbc.runners entry point")
    broken = [i for i in found if not i.sha256]
    if broken:
        raise click.ClickException(f"cannot compute the sha256 of {distribution}: {broken[0].error}")
    return found


@plugin.command("digest")
@click.argument("distribution")
@click.option("--path", multiple=True, help="Look in this folder (as on sys.path) instead of this environment.")
@click.option("--json", "as_json", is_flag=True)
def plugin_digest(distribution, path, as_json):
    """The sha256 of an installed runner plugin, as miners compute it (no key needed)."""
    installs = [i.report() for i in _local_installs(distribution, path)]
    lines = [f"{i['name']} {i['version']}  {i['entry_point']}  sha256 {i['sha256']}" for i in installs]
    emit(installs, as_json, "\n".join(lines))


@plugin.command("register")
@click.option("--installed", "distribution", help="Name, version, entry point, sha256 from this installed package.")
@click.option("--path", multiple=True, help="With --installed: look in this folder instead of this environment.")
@click.option("--name")
@click.option("--version", "plugin_version")
@click.option("--kind", type=click.Choice(["runner", "tool"]), default="runner", show_default=True)
@click.option("--entry-point")
@click.option("--sha256")
@click.option("--description", default="")
@api_command
def plugin_register(api, as_json, distribution, path, name, plugin_version, kind, entry_point, sha256, description):
    """Register a plugin version (miner or admin key), from an installed package or from the options."""
    bodies = []
    if distribution:
        for install in _local_installs(distribution, path):
            bodies.append({"name": install.name, "version": install.version, "entry_point": install.entry_point,
                           "sha256": install.sha256})  # fmt: skip
    elif name and plugin_version and entry_point and sha256:
        bodies.append({"name": name, "version": plugin_version, "entry_point": entry_point, "sha256": sha256})
    else:
        raise click.UsageError("give --installed DISTRIBUTION, or --name, --version, --entry-point and --sha256")
    registered = [
        api.post("plugin", "/v1/plugins/register", json={**b, "kind": kind, "description": description}).json()
        for b in bodies
    ]
    emit(registered if len(registered) > 1 else registered[0], as_json, "\n".join(plugin_line(p) for p in registered))


@plugin.command("list")
@click.option("--kind", type=click.Choice(["runner", "tool"]))
@click.option("--search", "q", help="Text in the name or description.")
@api_command
def plugin_list(api, as_json, kind, q):
    """The plugin marketplace: the newest version of each plugin, most installed first."""
    params = {k: v for k, v in {"kind": kind, "q": q}.items() if v}
    page = api.get("plugin", "/v1/marketplace/plugins", params=params)
    emit(page, as_json, "\n".join(plugin_line(p) for p in page["items"]) or "no plugins")


@plugin.command("show")
@click.argument("plugin_id")
@api_command
def plugin_show(api, as_json, plugin_id):
    """One plugin version, its reviews, and your miners' installs of it."""
    shown = api.get("plugin", f"/v1/plugins/{plugin_id}")
    shown["reviews"] = api.get("plugin", f"/v1/plugins/{plugin_id}/reviews")["items"]
    shown["my_installs"] = api.get("plugin", f"/v1/plugins/{plugin_id}/installs")["items"]
    text = plugin_line(shown)
    text += "".join(f"\n    review {r['rating']}/5: {r['comment']}" for r in shown["reviews"])
    text += "".join(f"\n    install on {i['miner_id']}: {i['status']} ({i['detail']})" for i in shown["my_installs"])
    emit(shown, as_json, text)


@plugin.command("review")
@click.argument("plugin_id")
@click.option("--rating", type=click.IntRange(1, 5), required=True)
@click.option("--comment", default="")
@api_command
def plugin_review(api, as_json, plugin_id, rating, comment):
    """Review a plugin version (once; 1-5)."""
    review = api.post("plugin", f"/v1/plugins/{plugin_id}/reviews", json={"rating": rating, "comment": comment}).json()
    emit(review, as_json, f"reviewed {plugin_id}: {review['rating']}/5")


@plugin.command("yank")
@click.argument("plugin_id")
@click.option("--reason", default="")
@api_command
def plugin_yank(api, as_json, plugin_id, reason):
    """Withdraw a version you published: miners refuse to run it from then on."""
    emit(api.post("plugin", f"/v1/plugins/{plugin_id}/yank", json={"reason": reason}).json(), as_json)


@plugin.command("analytics")
@api_command
def plugin_analytics(api, as_json):
    """Installs, jobs run and ratings per plugin version."""
    data = api.get("plugin", "/v1/analytics/plugins", params={"limit": 500})
    while len(data["items"]) < data["count"]:  # every version, a page at a time
        page = api.get("plugin", "/v1/analytics/plugins", params={"limit": 500, "offset": len(data["items"])})
        if not page["items"]:
            break
        data["items"] += page["items"]
    lines = [
        f"{i['name']} {i['version']}: {i['installs']['verified']} verified installs, "
        f"{i['jobs']['completed']} jobs completed ({i['jobs']['completed_on_this_version']} on this version), "
        f"{i['jobs']['failed']} failed, rating {i['rating']['average'] or '-'} ({i['rating']['count']})"
        for i in data["items"]
    ]
    lines.append("totals: " + ", ".join(f"{k} {v}" for k, v in data["totals"].items()))
    emit(data, as_json, "\n".join(lines))
