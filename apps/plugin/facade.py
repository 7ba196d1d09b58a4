"""What other apps may ask the plugin registry: plain values, never ORM objects."""

from uuid import UUID

from apps.plugin.models import Plugin, PluginKind
from apps.plugin.services import installs_report


def runner_plugin_types() -> list[str]:
    """Job types that a registered runner plugin provides (at least one version not yanked)."""
    rows = Plugin.objects.filter(kind=PluginKind.RUNNER, yanked_at__isnull=True).values_list("name", flat=True)
    return sorted(set(rows))


def runner_plugin_registered(job_type: str) -> bool:
    return Plugin.objects.filter(name=job_type, kind=PluginKind.RUNNER, yanked_at__isnull=True).exists()


def capabilities_checked(*, miner_id: UUID, principal_id: UUID, capabilities: dict) -> dict:
    """A miner's capabilities after the registry has checked its runner plugins.

    Every reported plugin is recorded as this miner's install with its verdict (status, detail). `runners`
    keeps a plugin's job type only when that install is verified, and drops a registered plugin's job type
    that the miner lists without reporting the plugin behind it: matching then never offers it such jobs.
    """
    reports = [dict(p) for p in capabilities.get("plugins") or ()]
    installs = installs_report(miner_id=miner_id, principal_id=principal_id, reports=reports)
    verdicts = {i.name: i for i in installs}
    unproven = set(runner_plugin_types()) - set(verdicts)
    runners = [
        r
        for r in capabilities.get("runners") or ()
        if r not in unproven and (r not in verdicts or verdicts[r].status == "verified")
    ]
    plugins = [{**r, "status": verdicts[r["name"]].status, "detail": verdicts[r["name"]].detail} for r in reports]
    return {**capabilities, "runners": runners, "plugins": plugins}
