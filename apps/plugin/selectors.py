"""Reads of the plugin registry: plugins, the marketplace listing, installs, reviews and analytics."""

from collections.abc import Sequence
from uuid import UUID

from django.db.models import Avg, Count, Exists, OuterRef, Q

from aitbc_site.errors import NotFound
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.plugin.contracts import job_type_counts
from apps.plugin.models import InstallStatus, Plugin, PluginInstall, PluginKind, PluginReview


def plugin_get(plugin_id: UUID) -> Plugin:
    plugin = Plugin.objects.filter(id=plugin_id).first()
    if plugin is None:
        raise NotFound(f"no plugin {plugin_id}")
    return plugin


def _install_counts(plugin_ids) -> dict:
    rows = PluginInstall.objects.filter(plugin_id__in=plugin_ids).values("plugin_id", "status").annotate(n=Count("id"))
    counts: dict = {}
    for row in rows:
        counts.setdefault(row["plugin_id"], {s: 0 for s in InstallStatus.values})[row["status"]] = row["n"]
    return counts


def _ratings(plugin_ids) -> dict:
    rows = (
        PluginReview.objects.filter(plugin_id__in=plugin_ids)
        .values("plugin_id")
        .annotate(a=Avg("rating"), n=Count("id"))
    )
    return {r["plugin_id"]: {"average": round(float(r["a"]), 2), "count": r["n"]} for r in rows}


def plugin_views(plugins: Sequence[Plugin]) -> list[dict]:
    ids = [p.id for p in plugins]
    installs, ratings = _install_counts(ids), _ratings(ids)
    empty = {s: 0 for s in InstallStatus.values}
    return [
        {
            "plugin_id": p.id,
            "name": p.name,
            "version": p.version,
            "kind": p.kind,
            "entry_point": p.entry_point,
            "sha256": p.sha256,
            "description": p.description,
            "publisher_id": p.owner_id,
            "yanked": p.yanked_at is not None,
            "yank_reason": p.yank_reason or None,
            "installs": installs.get(p.id, empty),
            "rating": ratings.get(p.id, {"average": None, "count": 0}),
            "created_at": iso(p.created_at),
        }
        for p in plugins
    ]


def plugin_list(*, kind=None, name=None, limit=50, offset=0) -> tuple[int, list[dict]]:
    plugins = Plugin.objects.all().order_by("name", "-created_at")
    if kind:
        plugins = plugins.filter(kind=kind)
    if name:
        plugins = plugins.filter(name=name)
    return plugins.count(), plugin_views(list(plugins[offset : offset + limit]))


def marketplace_list(*, kind=None, q=None, limit=50, offset=0) -> tuple[int, list[dict]]:
    """The newest version of each plugin that is not yanked, with its installs, rating and jobs run,
    most verified installs first (then by name); the database pages it."""
    plugins = Plugin.objects.filter(yanked_at__isnull=True)
    if kind:
        plugins = plugins.filter(kind=kind)
    if q:
        plugins = plugins.filter(Q(name__icontains=q) | Q(description__icontains=q))
    newer = plugins.filter(name=OuterRef("name"), created_at__gt=OuterRef("created_at"))
    newest = plugins.exclude(Exists(newer)).annotate(
        verified=Count("installs", filter=Q(installs__status=InstallStatus.VERIFIED))
    )
    page = list(newest.order_by("-verified", "name")[offset : offset + limit])
    views = plugin_views(page)
    versions: dict[str, list[str]] = {}
    for name, version in Plugin.objects.filter(name__in=[p.name for p in page]).values_list("name", "version"):
        versions.setdefault(name, []).append(version)
    jobs = job_type_counts([v["name"] for v in views if v["kind"] == PluginKind.RUNNER])
    for view in views:
        view["versions"] = sorted(versions[view["name"]])
        view["jobs_completed"] = jobs.get(view["name"], {}).get("completed", 0)
    return newest.count(), views


def install_view(install: PluginInstall) -> dict:
    return {
        "miner_id": install.miner_id,
        "plugin_id": install.plugin_id,
        "name": install.name,
        "version": install.version,
        "distribution": install.distribution,
        "entry_point": install.entry_point,
        "sha256": install.reported_sha256,
        "status": install.status,
        "detail": install.detail,
        "reported_at": iso(install.updated_at),
    }


def installs_for(principal: PrincipalView, plugin: Plugin, *, limit=50, offset=0) -> tuple[int, list[dict]]:
    """A plugin's installs: every miner's for an admin, the caller's own miners' otherwise."""
    installs = PluginInstall.objects.filter(Q(plugin=plugin) | Q(name=plugin.name, version=plugin.version))
    if not principal.is_admin:
        installs = installs.filter(principal_id=principal.id)
    return installs.count(), [install_view(i) for i in installs.order_by("created_at", "id")[offset : offset + limit]]


def review_view(review: PluginReview) -> dict:
    return {
        "review_id": review.id,
        "plugin_id": review.plugin_id,
        "principal_id": review.principal_id,
        "rating": review.rating,
        "comment": review.comment,
        "created_at": iso(review.created_at),
    }


def reviews_of(plugin: Plugin, *, limit=50, offset=0) -> tuple[int, list[dict]]:
    reviews = plugin.reviews.order_by("-created_at")
    return reviews.count(), [review_view(r) for r in reviews[offset : offset + limit]]


def _totals(jobs: dict) -> dict:
    installs = PluginInstall.objects.filter(plugin__isnull=False)
    refused = (InstallStatus.MISMATCH, InstallStatus.YANKED)
    return {
        "plugins": Plugin.objects.order_by().values("name").distinct().count(),
        "versions": Plugin.objects.count(),
        "verified_installs": installs.filter(status=InstallStatus.VERIFIED).count(),
        "refused_installs": installs.filter(status__in=refused).count(),
        "jobs_completed": sum(j["completed"] for j in jobs.values()),
        "reviews": PluginReview.objects.count(),
    }


def plugin_analytics(*, limit=50, offset=0) -> dict:
    """Per registered version (a page of them): installs by verdict, jobs run (from the ai service's job history:
    all of the job type, and those a miner reported running this very version), and ratings; totals over all."""
    plugins = Plugin.objects.order_by("name", "created_at", "id")
    views = plugin_views(list(plugins[offset : offset + limit]))
    runners = Plugin.objects.filter(kind=PluginKind.RUNNER).order_by("name").values_list("name", flat=True)
    jobs = job_type_counts(list(runners.distinct()))
    items = []
    for view in views:
        of_type = jobs.get(view["name"], {"completed": 0, "failed": 0, "by_version": {}})
        items.append(
            {
                **{k: view[k] for k in ("plugin_id", "name", "version", "kind", "yanked", "installs", "rating")},
                "jobs": {
                    "completed": of_type["completed"],
                    "failed": of_type["failed"],
                    "completed_on_this_version": of_type["by_version"].get(view["version"], 0),
                },
            }
        )
    return {"items": items, "count": plugins.count(), "totals": _totals(jobs)}
