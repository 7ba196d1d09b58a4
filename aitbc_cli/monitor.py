"""`aitbc monitor status|watch`: the dashboard in a terminal (an admin key)."""

import time

import click

from aitbc_cli.client import api_command, emit


@click.group()
def monitor():
    """The platform at a glance: services, queues, miners, jobs (admin key)."""


def _table(headers: tuple, rows: list) -> list[str]:
    cells = [tuple("–" if v is None else str(v) for v in row) for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    line = lambda row: "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()  # noqa: E731
    return [line(headers), line(tuple("-" * w for w in widths)), *(line(row) for row in cells)]


def status_text(dashboard: dict) -> str:
    summary = dashboard["summary"]
    services = [
        (c["name"], c["status"].upper(), f"{c['latency_ms']:.1f} ms", c["error"] or "") for c in dashboard["services"]
    ]
    queues = summary["queues"]
    queue_rows = [(name, depth) for name, depth in queues["depths"].items()]
    if queues["error"]:
        queue_rows.append(("(broker)", f"error: {queues['error']}"))
    miners, jobs = summary["miners"], summary["jobs"]["by_state"]
    gpus = [(g["model"], f"{g['online']}/{g['count']}", g["utilization_avg"]) for g in summary["gpus"]["by_model"]]
    overall = "all services up" if dashboard["status"] == "ok" else f"DOWN: {', '.join(dashboard['down'])}"
    lines = [f"AITBC at {summary['generated_at']}: {overall}", ""]
    lines += _table(("service", "status", "latency", "error"), services) + [""]
    lines += _table(("queue", "waiting"), queue_rows) + [""]
    lines.append(f"miners: {miners['online']} online of {miners['registered']} registered ({miners['offline']} left)")
    lines += _table(("gpu model", "online/all", "util %"), gpus) if gpus else ["gpus: none registered"]
    lines.append("jobs: " + "  ".join(f"{state} {count}" for state, count in jobs.items()))
    height = summary["blocks"]["height"]
    lines.append(
        f"blocks: height {'none yet' if height is None else height}, {summary['blocks']['unsealed']} rows unsealed;"
        f" escrow held {summary['ledger']['escrow_held']} AIT;"
        f" orders: {summary['orders']['offers']} offers, {summary['orders']['bids']} bids"
    )
    return "\n".join(lines)


@monitor.command("status")
@api_command
def monitor_status(api, as_json):
    """A table of services (status, measured latency, error), queues, miners, GPUs and jobs."""
    dashboard = api.get("monitoring", "/v1/dashboard")
    emit(dashboard, as_json, status_text(dashboard))


@monitor.command("watch")
@click.option("--interval", type=click.FloatRange(min=1), default=5, show_default=True, help="Seconds between.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many refreshes (default: until Ctrl-C).")
@api_command
def monitor_watch(api, as_json, interval, count):
    """`status`, refreshed every --interval seconds (with --json: one JSON line per refresh)."""
    shown = 0
    try:
        while count is None or shown < count:
            dashboard = api.get("monitoring", "/v1/dashboard")
            if not as_json:
                click.clear()
            emit(dashboard, as_json, status_text(dashboard))
            shown += 1
            if count is None or shown < count:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
