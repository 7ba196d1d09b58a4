"""Reading the market: order views, the order book, why a bid does not fill, analytics, offer filters."""

import re
from decimal import Decimal

from django.db.models import Count, F, Max, Min, Q, Sum

from aitbc_site.errors import Invalid
from aitbc_site.inputs import INT32_MAX
from aitbc_site.money import ZERO, MoneyField, money_str
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
                f"{qs.aggregate(m=Max('gpu_memory_gb'))['m']} GB; you asked for at least {bid.min_gpu_memory_gb} GB"
            ),
        ),
        (
            Q(gpu_count__gte=bid.gpu_count),
            lambda qs: (
                f"gpu_count: no {bid.gpu_model} offer has {bid.gpu_count} GPUs "
                f"(at most {qs.aggregate(m=Max('gpu_count'))['m']})"
            ),
        ),
        (
            Q() if not bid.region else Q(region=bid.region),
            lambda qs: f"region: {bid.gpu_model} offers are in {_regions(qs)}; you asked for {bid.region}",
        ),
    ]
    remaining = of_model
    for condition, reason in stages:
        narrowed = remaining.filter(condition)
        if not narrowed.exists():
            return [reason(remaining)]
        remaining = narrowed
    best = remaining.order_by("price_per_hour").first()
    if best is None:  # the last such offer was filled or withdrawn since the exists() above (another statement)
        return [f"offers: the {bid.gpu_model} offers that fit were just taken or withdrawn"]
    best_ask = best.price_per_hour
    if best_ask > bid.max_price_per_hour:
        return [f"price: best ask {_per_hour(best_ask)} is above your {_per_hour(bid.max_price_per_hour)}"]
    affordable = remaining.filter(price_per_hour__lte=bid.max_price_per_hour).order_by("price_per_hour", "created_at")
    if not any(_has_free_gpus(offer, bid) for offer in affordable[:OFFERS_CHECKED_FOR_GPUS]):
        return [f"gpus: the {bid.gpu_model} offers within your price have no {bid.gpu_count} GPUs free now"]
    return []


def _regions(offers) -> str:
    """The regions the offers are in (the first ten), for a person to read."""
    regions = offers.order_by("region").values_list("region", flat=True).distinct()[:10]
    return ", ".join(sorted({region or "any" for region in regions}))


def _has_free_gpus(offer: Offer, bid: Bid) -> bool:
    free = gpus_free(
        miner_id=offer.miner_id,
        gpu_model=offer.gpu_model,
        min_memory_gb=offer.gpu_memory_gb,
        hours=bid.remaining_hours,
    )
    return len(free.gpu_ids) >= bid.gpu_count


def order_book(gpu_model: str | None = None, *, limit: int = 50, offset: int = 0) -> dict:
    """The live asks (cheapest first) and bids (highest first), each side paged by limit and offset."""
    offers = Offer.objects.filter(status__in=LIVE, remaining_hours__gt=0)
    bids = Bid.objects.filter(status__in=LIVE, remaining_hours__gt=0)
    if gpu_model:
        offers, bids = offers.filter(gpu_class=gpu_class_of(gpu_model)), bids.filter(gpu_class=gpu_class_of(gpu_model))
    page = slice(offset, offset + limit)
    asks = [
        {"offer_id": o.id, "gpu_model": o.gpu_model, "gpu_memory_gb": o.gpu_memory_gb, "gpu_count": o.gpu_count,
         "region": o.region, "price_per_hour": money_str(o.price_per_hour),
         "remaining_hours": money_str(o.remaining_hours)}
        for o in offers.order_by("price_per_hour", "created_at", "id")[page]
    ]  # fmt: skip
    bid_rows = [
        {"bid_id": b.id, "gpu_model": b.gpu_model, "min_gpu_memory_gb": b.min_gpu_memory_gb, "gpu_count": b.gpu_count,
         "region": b.region, "price_per_hour": money_str(b.max_price_per_hour),
         "remaining_hours": money_str(b.remaining_hours)}
        for b in bids.order_by("-max_price_per_hour", "created_at", "id")[page]
    ]  # fmt: skip
    return {
        "gpu_model": gpu_model,
        "asks": asks,
        "bids": bid_rows,
        "ask_count": offers.count(),
        "bid_count": bids.count(),
        "limit": limit,
        "offset": offset,
    }


def _by_class(queryset, **aggregates) -> dict:
    return {row.pop("gpu_class"): row for row in queryset.values("gpu_class").annotate(**aggregates)}


def market_analytics(*, limit: int = 50, offset: int = 0) -> dict:
    """Volume, VWAP, spread, depth and fill rate per GPU class (a page of the classes, by name), from stored orders
    and fills, in a fixed number of aggregate queries; `volume` and `fills` cover every class."""
    classes = Offer.objects.order_by().values_list("gpu_class").union(Bid.objects.order_by().values_list("gpu_class"))
    page = [row[0] for row in classes.order_by("gpu_class")[offset : offset + limit]]
    fills = Fill.objects.exclude(status=FillStatus.REFUSED)
    traded = _by_class(
        fills.filter(bid__gpu_class__in=page).annotate(gpu_class=F("bid__gpu_class")),
        n=Count("id"),
        volume=Sum("amount"),
        gpu_hours=Sum(F("hours") * F("gpu_count"), output_field=MoneyField()),
    )
    offers = Offer.objects.filter(gpu_class__in=page, status__in=LIVE)
    live_offers = _by_class(offers, best=Min("price_per_hour"), depth=Sum("remaining_hours"))
    bids = Bid.objects.filter(gpu_class__in=page)
    live_bids = _by_class(bids.filter(status__in=LIVE), best=Max("max_price_per_hour"), depth=Sum("remaining_hours"))
    bid_counts = _by_class(bids, n=Count("id"), filled=Count("id", filter=Q(status=OrderStatus.FILLED)))
    rows = []
    for gpu_class in page:
        trade = traded.get(gpu_class, {})
        volume, gpu_hours = trade.get("volume") or ZERO, trade.get("gpu_hours") or ZERO
        ask, bid = live_offers.get(gpu_class, {}).get("best"), live_bids.get(gpu_class, {}).get("best")
        counted = bid_counts.get(gpu_class, {"n": 0})
        rows.append(
            {
                "gpu_class": gpu_class,
                "fills": trade.get("n", 0),
                "gpu_hours": money_str(gpu_hours),
                "volume": money_str(volume),
                "vwap": money_str(volume / gpu_hours) if gpu_hours else None,
                "best_ask": money_str(ask),
                "best_bid": money_str(bid),
                "spread": money_str(ask - bid) if ask is not None and bid is not None else None,
                "ask_depth_hours": money_str(live_offers.get(gpu_class, {}).get("depth") or ZERO),
                "bid_depth_hours": money_str(live_bids.get(gpu_class, {}).get("depth") or ZERO),
                "fill_rate": round(counted["filled"] / counted["n"], 4) if counted["n"] else None,
            }
        )
    total = fills.aggregate(volume=Sum("amount"), n=Count("id"))
    return {
        "volume": money_str(total["volume"] or ZERO),
        "fills": total["n"],
        "by_gpu_class": rows,
        "count": classes.count(),
        "limit": limit,
        "offset": offset,
    }


def _whole(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", raw) or int(raw) > INT32_MAX:
        raise ValueError(raw)
    return int(raw)


def _amount(raw: str) -> Decimal:
    """A decimal within what an order can hold (so NaN, Infinity, 1e400 and 20-digit numbers are refused)."""
    if not re.fullmatch(r"[0-9]{0,10}(\.[0-9]{1,8})?", raw):
        raise ValueError(raw)
    return Decimal(raw)


def _text(raw: str) -> str:
    if len(raw) > 100:
        raise ValueError(raw)
    return raw


FILTER_FIELDS = {
    "gpu_model": _text,
    "gpu_memory_gb": _whole,
    "gpu_count": _whole,
    "cuda_version": _text,
    "region": _text,
    "price_per_hour": _amount,
    "remaining_hours": _amount,
    "status": _text,
}
KINDS = {_text: "text of up to 100 characters", _whole: "whole number", _amount: "decimal number (up to 8 decimals)"}
LOOKUPS = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt", "=": "exact", "!=": "exact"}
TERM = re.compile(r"^(?P<field>[a-z_]+)(?P<op>>=|<=|!=|>|<|=)(?P<value>.+)$")
MAX_TERMS = 20


def offers_filter(expression: str) -> Q:
    """`gpu_memory_gb>=24 region=eu price_per_hour<2` -> a query. Unknown fields or GPU models are refused, and so
    are values no offer can have (non-ASCII digits, NaN, numbers beyond any column)."""
    query = Q()
    terms = expression.split()
    if len(terms) > MAX_TERMS:
        raise Invalid(f"filter: at most {MAX_TERMS} terms")
    for term in terms:
        match = TERM.match(term)
        if not match:
            raise Invalid(f"filter: cannot read {term[:50]!r}; write field<op>value, e.g. gpu_memory_gb>=24")
        field, op, raw = match["field"], match["op"], match["value"]
        if field not in FILTER_FIELDS:
            raise Invalid(f"filter: unknown field {field[:50]!r}; known: {', '.join(FILTER_FIELDS)}")
        kind = FILTER_FIELDS[field]
        if kind is _text and op not in ("=", "!="):
            raise Invalid(f"filter: {field} can only be compared with = or !=")
        try:
            value = kind(raw)
        except ValueError:
            raise Invalid(f"filter: {field} needs a {KINDS[kind]}, not {raw[:50]!r}") from None
        if field == "gpu_model":
            field, value = "gpu_class", gpu_class_of(raw)  # the value: _text returns raw as it is
            if not Offer.objects.filter(gpu_class=value).exists():
                known = Offer.objects.order_by("gpu_model").values_list("gpu_model", flat=True).distinct()[:20]
                raise Invalid(f"filter: unknown GPU model {raw!r}; offered models: {', '.join(known) or 'none'}")
        term_q = Q(**{f"{field}__{LOOKUPS[op]}": value})
        query &= ~term_q if op == "!=" else term_q
    return query
