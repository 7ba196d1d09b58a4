"""The plugin service: the registry, the plugin marketplace, installs reported by miners, reviews, analytics."""

from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from aitbc_site.errors import NotFound
from apps.accounts.auth import ApiKeyAuth, any_principal, miners
from apps.accounts.idempotency import idempotent
from apps.plugin.contracts import miner_of_principal
from apps.plugin.models import PluginKind
from apps.plugin.selectors import (
    install_view,
    installs_for,
    marketplace_list,
    plugin_analytics,
    plugin_get,
    plugin_list,
    plugin_views,
    review_view,
    reviews_of,
)
from apps.plugin.services import PluginSpec, install_check, plugin_register, plugin_yank, review_add

router = Router(tags=["plugins"])
publishers = ApiKeyAuth("miner", "admin")
LIMIT = Query(50, ge=1, le=500)
OFFSET = Query(0, ge=0, le=1_000_000)


class PluginIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=64, description="for a runner: the job type, its `aitbc.runners` entry point name")
    version: str = Field(max_length=64, description="the distribution's version")
    kind: PluginKind
    entry_point: str = Field(max_length=200, description="module:attr")
    sha256: str = Field(max_length=64, description="hex; see `aitbc plugin digest`")
    description: str = Field("", max_length=2000)


class Installs(Schema):
    verified: int
    mismatch: int
    unregistered: int
    yanked: int


class Rating(Schema):
    average: float | None
    count: int


class PluginOut(Schema):
    plugin_id: UUID
    name: str
    version: str
    kind: str
    entry_point: str
    sha256: str
    description: str
    publisher_id: UUID
    yanked: bool
    yank_reason: str | None
    installs: Installs
    rating: Rating
    created_at: str


class PluginList(Schema):
    items: list[PluginOut]
    count: int


class MarketplacePlugin(PluginOut):
    versions: list[str]
    jobs_completed: int


class MarketplaceList(Schema):
    items: list[MarketplacePlugin]
    count: int


class YankIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=500)


class ReviewIn(Schema):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class ReviewOut(Schema):
    review_id: UUID
    plugin_id: UUID
    principal_id: UUID
    rating: int
    comment: str
    created_at: str


class ReviewList(Schema):
    items: list[ReviewOut]
    count: int


class InstallIn(Schema):
    name: str = Field(max_length=64)
    version: str = Field(max_length=64)
    entry_point: str = Field(max_length=200)
    distribution: str = Field("", max_length=200)
    sha256: str = Field("", max_length=64)
    error: str = Field("", max_length=500)


class InstallOut(Schema):
    miner_id: UUID
    plugin_id: UUID | None
    name: str
    version: str
    distribution: str
    entry_point: str
    sha256: str
    status: str
    detail: str
    reported_at: str


class InstallList(Schema):
    items: list[InstallOut]
    count: int


class JobCounts(Schema):
    completed: int
    failed: int
    completed_on_this_version: int


class AnalyticsItem(Schema):
    plugin_id: UUID
    name: str
    version: str
    kind: str
    yanked: bool
    installs: Installs
    rating: Rating
    jobs: JobCounts


class Analytics(Schema):
    items: list[AnalyticsItem]
    count: int
    totals: dict[str, int]


@router.post("/plugins/register", auth=publishers, response={201: PluginOut, 403: Error, 409: Error, 422: Error})
@idempotent
def plugins_register(request, body: PluginIn):
    """Register a plugin version (miner or admin key). 409 for a name and version already registered, or a
    name another publisher owns; 422 for a malformed sha256 or entry point. Miners run a runner plugin only
    when their installed copy has exactly this sha256 and entry point."""
    spec = PluginSpec(**body.model_dump())
    return Status(201, plugin_views([plugin_register(principal=request.auth, spec=spec)])[0])


@router.get("/plugins", auth=any_principal, response=PluginList)
def plugins_list(
    request,
    kind: PluginKind | None = None,
    name: str | None = Query(None, max_length=64),
    limit: int = LIMIT,
    offset: int = OFFSET,
):
    """Every registered version, yanked ones included."""
    count, items = plugin_list(kind=kind, name=name, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.post("/plugins/installs", auth=miners, response={200: InstallOut, 404: Error})
def plugins_install_check(request, body: InstallIn):
    """A miner about to run a runner plugin reports its install (sha256 freshly computed) and gets the verdict:
    run it only when status is `verified`. The verdict is recorded as this miner's install."""
    miner_id = miner_of_principal(request.auth.id)
    if miner_id is None:
        raise NotFound("this miner key has no registered miner: POST /gpu/v1/miners/register first")
    install = install_check(miner_id=miner_id, principal_id=request.auth.id, report=body.model_dump())
    return install_view(install)


@router.get("/plugins/{plugin_id}", auth=any_principal, response={200: PluginOut, 404: Error})
def plugins_get(request, plugin_id: UUID):
    return plugin_views([plugin_get(plugin_id)])[0]


@router.post(
    "/plugins/{plugin_id}/yank", auth=any_principal, response={200: PluginOut, 403: Error, 404: Error, 409: Error}
)
def plugins_yank(request, plugin_id: UUID, body: YankIn):
    """Withdraw a version (its publisher or an admin): miners refuse to run it from then on."""
    return plugin_views([plugin_yank(principal=request.auth, plugin_id=plugin_id, reason=body.reason)])[0]


@router.get("/plugins/{plugin_id}/installs", auth=any_principal, response={200: InstallList, 404: Error})
def plugins_installs(request, plugin_id: UUID, limit: int = LIMIT, offset: int = OFFSET):
    """Where this version is installed and whether each copy verified (an admin sees every miner's, a miner its own)."""
    count, items = installs_for(request.auth, plugin_get(plugin_id), limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.post(
    "/plugins/{plugin_id}/reviews", auth=any_principal, response={201: ReviewOut, 403: Error, 404: Error, 409: Error}
)
def plugins_review(request, plugin_id: UUID, body: ReviewIn):
    """One review per principal per plugin version (409 for a second); a publisher may not review its own."""
    review = review_add(principal=request.auth, plugin_id=plugin_id, rating=body.rating, comment=body.comment)
    return Status(201, review_view(review))


@router.get("/plugins/{plugin_id}/reviews", auth=any_principal, response={200: ReviewList, 404: Error})
def plugins_reviews(request, plugin_id: UUID, limit: int = LIMIT, offset: int = OFFSET):
    count, items = reviews_of(plugin_get(plugin_id), limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/marketplace/plugins", auth=any_principal, response=MarketplaceList)
def marketplace_plugins(
    request,
    kind: PluginKind | None = None,
    q: str | None = Query(None, max_length=100, description="text in the name or description"),
    limit: int = LIMIT,
    offset: int = OFFSET,
):
    """The plugin marketplace: the newest version of each plugin not yanked, most verified installs first (then
    by name)."""
    count, items = marketplace_list(kind=kind, q=q, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/analytics/plugins", auth=any_principal, response=Analytics)
def analytics_plugins(request, limit: int = LIMIT, offset: int = OFFSET):
    """Per version (a page, by name): installs by verdict, jobs run (from the job history), ratings; and totals
    over every version (`count` is how many versions there are)."""
    return plugin_analytics(limit=limit, offset=offset)
