"""`aitbc market ...`: the GPU-hour market (offers, bids, the order book, bookings, reviews)."""

import click

from aitbc_cli.client import api_command, emit


@click.group()
def market():
    """Sell (miner) or buy (client) GPU hours through the order book."""


def offer_line(o: dict) -> str:
    where = o["region"] or "any region"
    return (
        f"{o['offer_id']}  {o['status']:8}  {o['gpu_model']} x{o['gpu_count']} {o['gpu_memory_gb']} GB  {where}  "
        f"{o['price_per_hour']}/h  {o['remaining_hours']} of {o['hours']} h left"
    )


def bid_line(b: dict) -> str:
    text = (
        f"{b['bid_id']}  {b['status']:8}  {b['gpu_model']} x{b['gpu_count']} >= {b['min_gpu_memory_gb']} GB  "
        f"<= {b['max_price_per_hour']}/h  {b['remaining_hours']} of {b['hours']} h left"
    )
    text += "".join(
        f"\n    filled {f['hours']} h at {f['price_per_hour']}/h (offer {f['offer_id']})" for f in b["fills"]
    )
    text += "".join(f"\n    not filled: {reason}" for reason in b["unmatched_reasons"])
    return text


@market.command("offer")
@click.option("--gpu-model", required=True)
@click.option("--memory-gb", "gpu_memory_gb", type=int, required=True)
@click.option("--count", "gpu_count", type=int, default=1, show_default=True)
@click.option("--cuda", "cuda_version", default="")
@click.option("--region", default="")
@click.option("--price", "price_per_hour", required=True, help="AIT per GPU per hour.")
@click.option("--hours", required=True)
@api_command
def market_offer(api, as_json, **body):
    """Offer GPU hours (miner key)."""
    offer = api.post("marketplace", "/v1/offers", json=body).json()
    emit(offer, as_json, offer_line(offer))


@market.command("bid")
@click.option("--gpu-model", required=True)
@click.option("--min-memory-gb", "min_gpu_memory_gb", type=int, default=0)
@click.option("--count", "gpu_count", type=int, default=1, show_default=True)
@click.option("--region", default="")
@click.option("--max-price", "max_price_per_hour", required=True, help="AIT per GPU per hour.")
@click.option("--hours", required=True)
@api_command
def market_bid(api, as_json, **body):
    """Bid for GPU hours (client key); the most it can cost is held until it ends."""
    bid = api.post("marketplace", "/v1/bids", json=body).json()
    emit(bid, as_json, bid_line(bid))


@market.command("orders")
@click.option("--filter", "expression", default="", help="Offers matching e.g. 'gpu_memory_gb>=24 region=eu'.")
@api_command
def market_orders(api, as_json, expression):
    """Your bids (client key), or offers (miner key, or with --filter)."""
    me = api.get("gpu", "/v1/principals/me")
    if me["role"] == "miner" or expression:
        params = {"filter": expression} if expression else {"mine": True}
        page = api.get("marketplace", "/v1/offers", params=params)
        return emit(page, as_json, "\n".join(offer_line(o) for o in page["items"]) or "no offers")
    page = api.get("marketplace", "/v1/bids")
    emit(page, as_json, "\n".join(bid_line(b) for b in page["items"]) or "no bids")


@market.command("cancel")
@click.argument("order_id")
@api_command
def market_cancel(api, as_json, order_id):
    """Cancel the unfilled rest of your bid (client) or offer (miner)."""
    me = api.get("gpu", "/v1/principals/me")
    if me["role"] == "miner":
        offer = api.delete("marketplace", f"/v1/offers/{order_id}").json()
        return emit(offer, as_json, offer_line(offer))
    bid = api.delete("marketplace", f"/v1/bids/{order_id}").json()
    emit(bid, as_json, bid_line(bid))


@market.command("orderbook")
@click.option("--gpu-model")
@api_command
def market_orderbook(api, as_json, gpu_model):
    """What is left to buy and sell."""
    book = api.get("marketplace", "/v1/orderbook", params={"gpu_model": gpu_model} if gpu_model else {})
    lines = ["ASKS (cheapest first)"] + [
        f"  {a['price_per_hour']:>16}/h  {a['remaining_hours']:>10} h  {a['gpu_model']} x{a['gpu_count']} {a['region']}"
        for a in book["asks"]
    ]
    lines += ["BIDS (highest first)"] + [
        f"  {b['price_per_hour']:>16}/h  {b['remaining_hours']:>10} h  {b['gpu_model']} x{b['gpu_count']} {b['region']}"
        for b in book["bids"]
    ]
    emit(book, as_json, "\n".join(lines))


@market.command("book")
@click.argument("gpu_id")
@click.option("--hours", required=True)
@api_command
def market_book(api, as_json, gpu_id, hours):
    """Book one registered GPU directly for some hours (client key)."""
    emit(api.post("gpu", f"/v1/gpus/{gpu_id}/book", json={"hours": hours}).json(), as_json)


@market.command("review")
@click.argument("gpu_id")
@click.option("--rating", type=click.IntRange(1, 5), required=True)
@click.option("--comment", default="")
@api_command
def market_review(api, as_json, gpu_id, rating, comment):
    """Review a GPU you booked (1-5)."""
    body = {"rating": rating, "comment": comment}
    emit(api.post("gpu", f"/v1/gpus/{gpu_id}/reviews", json=body).json(), as_json)
