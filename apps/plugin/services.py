"""Writes of the plugin registry: registering versions, yanking them, reviews, and miners' installs."""

import re
from dataclasses import dataclass
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from aitbc_miner.runners import builtin_runner
from aitbc_site.errors import Conflict, Forbidden, Invalid, NotFound
from apps.accounts.facade import PrincipalView
from apps.plugin.contracts import verdicts_changed
from apps.plugin.models import InstallStatus, Plugin, PluginInstall, PluginKind, PluginReview

DB = "plugin"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!_-]{0,63}$")
DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
ENTRY_POINT = re.compile(rf"^{DOTTED}:{DOTTED}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PluginSpec:
    name: str
    version: str
    kind: str
    entry_point: str
    sha256: str
    description: str = ""


def _checked(spec: PluginSpec) -> PluginSpec:
    if not NAME.match(spec.name):
        raise Invalid("name: lowercase letters, digits, '-' and '_', starting with a letter, at most 64")
    if not VERSION.match(spec.version):
        raise Invalid("version: a version such as 1.0.0 (starts with a digit, at most 64 characters)")
    if spec.kind not in PluginKind.values:
        raise Invalid(f"kind: one of {', '.join(PluginKind.values)}")
    if not ENTRY_POINT.match(spec.entry_point):
        raise Invalid("entry_point: must look like package.module:Attribute")
    sha256 = spec.sha256.strip().lower()
    if not SHA256.match(sha256):
        raise Invalid("sha256: must be 64 hexadecimal characters")
    if spec.kind == PluginKind.RUNNER and builtin_runner(spec.name) is not None:
        raise Invalid(f"name: {spec.name!r} is a built-in job type; a runner plugin cannot replace it")
    if len(spec.description) > 2000 or "\x00" in spec.description:
        raise Invalid("description: at most 2000 characters, and no NUL characters")
    return PluginSpec(spec.name, spec.version, spec.kind, spec.entry_point, sha256, spec.description.strip())


def plugin_register(*, principal: PrincipalView, spec: PluginSpec) -> Plugin:
    """A new version of a plugin. A name belongs to whoever registered it first (admins may add versions)."""
    spec = _checked(spec)
    first = Plugin.objects.filter(name=spec.name).order_by("created_at").first()
    if first is not None and first.owner_id != principal.id and not principal.is_admin:
        raise Conflict(f"the plugin name {spec.name!r} belongs to another publisher", code="name_taken")
    if first is not None and first.kind != spec.kind:
        raise Invalid(f"kind: {spec.name!r} is a {first.kind} plugin")
    try:
        with transaction.atomic(using=DB):
            plugin = Plugin.objects.create(owner_id=first.owner_id if first else principal.id, **spec.__dict__)
    except IntegrityError:
        raise Conflict(f"{spec.name} {spec.version} is already registered", code="plugin_exists") from None
    installs_recheck(plugin)
    return plugin


def plugin_yank(*, principal: PrincipalView, plugin_id: UUID, reason: str) -> Plugin:
    """Withdraws a version: miners refuse to run it from now on. Its publisher or an admin only."""
    with transaction.atomic(using=DB):
        plugin = Plugin.objects.select_for_update().filter(id=plugin_id).first()
        if plugin is None:
            raise NotFound(f"no plugin {plugin_id}")
        if plugin.owner_id != principal.id and not principal.is_admin:
            raise Forbidden("only the plugin's publisher or an admin may yank it")
        if plugin.yanked_at is not None:
            raise Conflict(f"{plugin.name} {plugin.version} is already yanked", code="already_yanked")
        plugin.yanked_at, plugin.yank_reason = timezone.now(), reason.replace("\x00", "").strip()[:500]
        plugin.save(update_fields=["yanked_at", "yank_reason", "updated_at"])
    installs_recheck(plugin)
    return plugin


def review_add(*, principal: PrincipalView, plugin_id: UUID, rating: int, comment: str) -> PluginReview:
    plugin = Plugin.objects.filter(id=plugin_id).first()
    if plugin is None:
        raise NotFound(f"no plugin {plugin_id}")
    if plugin.owner_id == principal.id:
        raise Forbidden("a publisher may not review its own plugin")
    if not 1 <= rating <= 5:
        raise Invalid("rating: from 1 to 5")
    if "\x00" in comment:
        raise Invalid("comment: may not contain NUL characters")
    try:
        with transaction.atomic(using=DB):
            return PluginReview.objects.create(
                plugin=plugin, principal_id=principal.id, rating=rating, comment=comment.strip()[:2000]
            )
    except IntegrityError:
        raise Conflict(f"you have already reviewed {plugin.name} {plugin.version}", code="already_reviewed") from None


def install_verdict(report: dict) -> tuple[str, Plugin | None, str]:
    """(status, registered plugin, why) for one install a miner reported."""
    name, version = str(report.get("name", "")), str(report.get("version", ""))
    what = f"runner plugin {name} {version}"
    plugin = Plugin.objects.filter(name=name, version=version, kind=PluginKind.RUNNER).first()
    sha256 = str(report.get("sha256") or "").lower()
    if plugin is None:
        return InstallStatus.UNREGISTERED, None, f"{what} is not registered"
    if plugin.yanked_at is not None:
        return InstallStatus.YANKED, plugin, f"{what} was yanked: {plugin.yank_reason or 'no reason given'}"
    if not sha256:
        return InstallStatus.MISMATCH, plugin, f"{what}: its sha256 could not be computed ({report.get('error')})"
    if report.get("entry_point") != plugin.entry_point:
        return (
            InstallStatus.MISMATCH,
            plugin,
            f"{what}: entry point {report.get('entry_point')} is not {plugin.entry_point}",
        )
    if sha256 != plugin.sha256:
        detail = f"{what}: installed sha256 {sha256} is not the registered {plugin.sha256}"
        return InstallStatus.MISMATCH, plugin, detail
    return InstallStatus.VERIFIED, plugin, f"{what} matches its registered sha256"


def _install_record(*, miner_id: UUID, principal_id: UUID, report: dict) -> PluginInstall:
    report = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in report.items()}
    status, plugin, detail = install_verdict(report)
    install, _ = PluginInstall.objects.update_or_create(
        miner_id=miner_id,
        name=str(report.get("name", ""))[:64],
        defaults={
            "principal_id": principal_id,
            "plugin": plugin,
            "version": str(report.get("version", ""))[:64],
            "entry_point": str(report.get("entry_point", ""))[:200],
            "distribution": str(report.get("distribution", ""))[:200],
            "reported_sha256": str(report.get("sha256") or "")[:64],
            "status": status,
            "detail": detail[:500],
        },
    )
    return install


def installs_report(*, miner_id: UUID, principal_id: UUID, reports: list[dict]) -> list[PluginInstall]:
    """A miner's full list of runner plugins: each recorded with its verdict; ones no longer listed removed."""
    with transaction.atomic(using=DB):
        installs = [_install_record(miner_id=miner_id, principal_id=principal_id, report=r) for r in reports]
        PluginInstall.objects.filter(miner_id=miner_id).exclude(id__in=[i.id for i in installs]).delete()
    return installs


def install_check(*, miner_id: UUID, principal_id: UUID, report: dict) -> PluginInstall:
    """One install, checked right before a miner runs it (its sha256 freshly computed)."""
    with transaction.atomic(using=DB):
        return _install_record(miner_id=miner_id, principal_id=principal_id, report=report)


def installs_recheck(plugin: Plugin) -> int:
    """After a registration or a yank: the verdicts of installs of that name and version, again, and the
    runners of the miners that reported them (so jobs of that type reach them, or stop reaching them)."""
    changed = 0
    installs = list(PluginInstall.objects.filter(name=plugin.name, version=plugin.version))
    for install in installs:
        report = {"name": install.name, "version": install.version, "entry_point": install.entry_point}
        status, registered, detail = install_verdict({**report, "sha256": install.reported_sha256})
        changed += PluginInstall.objects.filter(id=install.id).update(
            status=status, plugin=registered, detail=detail[:500], updated_at=timezone.now()
        )
    verdicts_changed({install.miner_id for install in installs})
    return changed
