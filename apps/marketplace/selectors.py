"""Reading the market: order views, the order book, why a bid does not fill, analytics, offer filters."""

import re
from decimal import Decimal, InvalidOperation

from django.db.models import Q, Sum

from aitbc_site.errors import Invalid
from aitbc_site.money import ZERO, money_str
from aitbc_site.times import iso
from apps.gpu.facade import gpus_free
from apps.marketplace.engine import gpu_class_of
from apps.marketplace.models import LIVE, Bid, Fill, FillStatus, Offer, OrderStatus

OFFERS_CHECKED_FOR_GPUS = 20


def fill_view(fill: Fill) -> dict:
    return {
        "fill_id": fill.id,
        "offer_id": fill.offer_id,
        "bid_id": fill.bid_id,
        "price_per_hour": money_str(fill.price_per_hour),
        "hours": money_str(fill.hours),
        "gpu_count": fill.gpu_count,
        "amount": money_str(fill.amount),
        "status": fill.status,
        "booking_id": fill.booking_id,
        "created_at": iso(fill.created_at),
    }


def offer_view(offer: Offer) -> dict:
    return {
        "offer_id": offer.id,
        "miner_id": offer.miner_id,
        "gpu_model": offer.gpu_model,
        "gpu_memory_gb": offer.gpu_memory_gb,
        "gpu_count": offer.gpu_count,
        "cuda_version": offer.cuda_version,
        "region": offer.region,
        "price_per_hour": money_str(offer.price_per_hour),
        "hours": money_str(offer.hours),
        "remaining_hours": money_str(offer.remaining_hours),
        "status": offer.status,
        "created_at": iso(offer.created_at),
    }


def bid_view(bid: Bid) -> dict:
    return {
        "bid_id": bid.id,
        "gpu_model": bid.gpu_model,
        "min_gpu_memory_gb": bid.min_gpu_memory_gb,
        "gpu_count": bid.gpu_count,
        "region": bid.region,
        "max_price_per_hour": money_str(bid.max_price_per_hour),
        "hours": money_str(bid.hours),
        "remaining_hours": money_str(bid.remaining_hours),
        "status": bid.status,
        "fills": [fill_view(f) for f in bid.fills.order_by("created_at")],
        "unmatched_reasons": bid_unmatched_reasons(bid) if bid.status in LIVE else [],
        "created_at": iso(bid.created_at),
    }


def _per_hour(amount: Decimal) -> str:
    return f"{amount.normalize():f}/h" if amount == amount.to_integral() else f"{amount.quantize(Decimal('0.01'))}/h"


def bid_unmatched_reasons(bid: Bid) -> list[str]:
    """Why an open bid is not (fully) filled, in words a person can act on: each constraint in turn."""
    offers = Offer.objects.filter(status__in=LIVE, remaining_hours__gt=0).exclude(provider_id=bid.client_id)
    of_model = offers.filter(gpu_class=bid.gpu_class)
    if not of_model.exists():
        return [f"gpu_model: no open offer of {bid.gpu_model}"]
    stages = [
        (
            Q(gpu_memory_gb__gte=bid.min_gpu_memory_gb),
            lambda qs: (
                f"memory: the {bid.gpu_model} offers have at most "
                f"{max(o.gpu_memory_gb for o in qs)} GB; you asked for at least {bid.min_gpu_memory_gb} GB"
            ),
        ),
        (
            Q(gpu_count__gte=bid.gpu_count),
            lambda qs: (
                f"gpu_count: no {bid.gpu_model} offer has {bid.gpu_count} GPUs (at most {max(o.gpu_count for o in qs)})"
            ),
        ),
        (
            Q() if not bid.region else Q(region=bid.region),
            lambda qs: (
                f"region: {bid.gpu_model} offers are in {', '.join(sorted({o.region or 'any' for o in qs}))}; "
                f"you asked for {bid.region}"
            ),
        ),
    ]
    remaining = of_model
    for condition, reason in stages:
        narrowed = remaining.filter(condition)
        if not narrowed.exists():
            return [reason(list(remaining))]
        remaining = narrowed
    best = remaining.order_by("price_per_hour").first()
    if best.price_per_hour > bid.max_price_per_hour:
        return [f"price: best ask {_per_hour(best.price_per_hour)} is above your {_per_hour(bid.max_price_per_hour)}"]
    affordable = remaining.filter(price_per_hour__lte=bid.max_price_per_hour).order_by("price_per_hour", "created_at")
    if not any(_has_free_gpus(offer, bid) for offer in affordable[:OFFERS_CHECKED_FOR_GPUS]):
        return [f"gpus: the {bid.gpu_model} offers within your price have no {bid.gpu_count} GPUs free now"]
    return []


def _has_free_gpus(offer: Offer, bid: Bid) -> bool:
    free = gpus_free(
        miner_id=offer.miner_id,
        gpu_model=offer.gpu_model,
        min_memory_gb=offer.gpu_memory_gb,
        hours=bid.remaining_hours,
    )
    return len(free.gpu_ids) >= bid.gpu_count


def order_book(gpu_model: str | None = None) -> dict:
    offers = Offer.objects.filter(status__in=LIVE, remaining_hours__gt=0)
    bids = Bid.objects.filter(status__in=LIVE, remaining_hours__gt=0)
    if gpu_model:
        offers, bids = offers.filter(gpu_class=gpu_class_of(gpu_model)), bids.filter(gpu_class=gpu_class_of(gpu_model))
    asks = [
        {**{k: offer_view(o)[k] for k in ("offer_id", "gpu_model", "gpu_memory_gb", "gpu_count", "region")},
         "price_per_hour": money_str(o.price_per_hour), "remaining_hours": money_str(o.remaining_hours)}
        for o in offers.order_by("price_per_hour", "created_at")
    ]  # fmt: skip
    bid_rows = [
        {"bid_id": b.id, "gpu_model": b.gpu_model, "min_gpu_memory_gb": b.min_gpu_memory_gb, "gpu_count": b.gpu_count,
         "region": b.region, "price_per_hour": money_str(b.max_price_per_hour),
         "remaining_hours": money_str(b.remaining_hours)}
        for b in bids.order_by("-max_price_per_hour", "created_at")
    ]  # fmt: skip
    return {"gpu_model": gpu_model, "asks": asks, "bids": bid_rows}


def market_analytics() -> dict:
    """Volume, VWAP, spread, depth and fill rate, per GPU class, from stored orders and fills."""
    classes = sorted(
        set(Offer.objects.values_list("gpu_class", flat=True)) | set(Bid.objects.values_list("gpu_class", flat=True))
    )
    rows = []
    for gpu_class in classes:
        fills = list(Fill.objects.filter(bid__gpu_class=gpu_class).exclude(status=FillStatus.REFUSED))
        gpu_hours = sum((f.hours * f.gpu_count for f in fills), ZERO)
        volume = sum((f.amount for f in fills), ZERO)
        best_ask = Offer.objects.filter(gpu_class=gpu_class, status__in=LIVE).order_by("price_per_hour").first()
        best_bid = Bid.objects.filter(gpu_class=gpu_class, status__in=LIVE).order_by("-max_price_per_hour").first()
        bids = Bid.objects.filter(gpu_class=gpu_class)
        depth = lambda qs: qs.filter(status__in=LIVE).aggregate(h=Sum("remaining_hours"))["h"] or ZERO  # noqa: E731
        rows.append(
            {
                "gpu_class": gpu_class,
                "fills": len(fills),
                "gpu_hours": money_str(gpu_hours),
                "volume": money_str(volume),
                "vwap": money_str(volume / gpu_hours) if gpu_hours else None,
                "best_ask": money_str(best_ask.price_per_hour) if best_ask else None,
                "best_bid": money_str(best_bid.max_price_per_hour) if best_bid else None,
                "spread": money_str(best_ask.price_per_hour - best_bid.max_price_per_hour)
                if best_ask and best_bid
                else None,
                "ask_depth_hours": money_str(depth(Offer.objects.filter(gpu_class=gpu_class))),
                "bid_depth_hours": money_str(depth(bids)),
                "fill_rate": round(bids.filter(status=OrderStatus.FILLED).count() / bids.count(), 4) if bids else None,
            }
        )
    total_volume = sum((Decimal(r["volume"]) for r in rows), ZERO)
    return {"volume": money_str(total_volume), "fills": sum(r["fills"] for r in rows), "by_gpu_class": rows}


FILTER_FIELDS = {
    "gpu_model": str,
    "gpu_memory_gb": int,
    "gpu_count": int,
    "cuda_version": str,
    "region": str,
    "price_per_hour": Decimal,
    "remaining_hours": Decimal,
    "status": str,
}
LOOKUPS = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt", "=": "exact", "!=": "exact"}
TERM = re.compile(r"^(?P<field>[a-z_]+)(?P<op>>=|<=|!=|>|<|=)(?P<value>.+)$")


def offers_filter(expression: str) -> Q:
    """`gpu_memory_gb>=24 region=eu price_per_hour<2` -> a query. Unknown fields or GPU models are refused."""
    query = Q()
    for term in expression.split():
        match = TERM.match(term)
        if not match:
            raise Invalid(f"filter: cannot read {term!r}; write field<op>value, e.g. gpu_memory_gb>=24")
        field, op, raw = match["field"], match["op"], match["value"]
        if field not in FILTER_FIELDS:
            raise Invalid(f"filter: unknown field {field!r}; known: {', '.join(FILTER_FIELDS)}")
        kind = FILTER_FIELDS[field]
        if kind is str and op not in ("=", "!="):
            raise Invalid(f"filter: {field} can only be compared with = or !=")
        try:
            value = kind(raw)
        except (ValueError, InvalidOperation):
            raise Invalid(f"filter: {field} needs a {kind.__name__}, not {raw!r}") from None
        if field == "gpu_model":
            field, value = "gpu_class", gpu_class_of(value)
            if not Offer.objects.filter(gpu_class=value).exists():
                known = sorted(set(Offer.objects.values_list("gpu_model", flat=True)))
                raise Invalid(f"filter: unknown GPU model {raw!r}; offered models: {', '.join(known) or 'none'}")
        term_q = Q(**{f"{field}__{LOOKUPS[op]}": value})
        query &= ~term_q if op == "!=" else term_q
    return query
