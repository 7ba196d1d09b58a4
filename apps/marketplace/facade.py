"""What other apps (monitoring) may ask the GPU-hour market: plain values only."""

from django.db.models import Count, Sum

from aitbc_site.money import ZERO, money_str
from apps.marketplace.models import LIVE, Bid, Offer


def open_orders() -> dict:
    """Live (open or partly filled) offers and bids, with the GPU-hours they still offer or ask for."""
    offers = Offer.objects.filter(status__in=LIVE).aggregate(n=Count("id"), hours=Sum("remaining_hours"))
    bids = Bid.objects.filter(status__in=LIVE).aggregate(n=Count("id"), hours=Sum("remaining_hours"))
    return {
        "offers": offers["n"],
        "bids": bids["n"],
        "offer_hours": money_str(offers["hours"] or ZERO),
        "bid_hours": money_str(bids["hours"] or ZERO),
    }
