"""Transparency reports: what governance did in a day, week or month, from stored proposals, votes and ledger flows."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from aitbc_site.errors import Invalid, NotFound
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.governance.lifecycle import outcome
from apps.governance.models import Category, Period, Proposal, Status, TransparencyReport
from apps.governance.selectors import delegations_summary, votes_summary
from apps.governance.treasury import flows

DB = "governance"
ITEMS_MAX = 500  # proposals listed by name in one report (the counts cover them all; the rest: /v1/governance/...)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def period_bounds(period: str, day: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the day, week (Monday first) or month that contains `day`."""
    if period == Period.DAY:
        start = day
        end = start + timedelta(days=1)
    elif period == Period.WEEK:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif period == Period.MONTH:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise Invalid(f"period must be one of {', '.join(Period.values)}, not {period!r}")
    return _midnight(start), _midnight(end)


def report_data(start: datetime, end: datetime, now: datetime) -> dict:
    created = Proposal.objects.filter(created_at__gte=start, created_at__lt=end)
    ended = Proposal.objects.filter(voting_ends_at__gte=start, voting_ends_at__lt=min(end, now)).exclude(
        status=Status.CANCELED
    )
    executed = Proposal.objects.filter(executed_at__gte=start, executed_at__lt=end)
    return {
        "votes_closed_count": ended.count(),
        "executed_count": executed.count(),
        "proposals_created": created.count(),
        "proposals_created_by_category": {c: created.filter(category=c).count() for c in Category.values},
        "votes_closed": [
            {
                "proposal_id": str(p.id),
                "title": p.title,
                "outcome": outcome(p),
                "for_votes": money_str(p.for_votes),
                "against_votes": money_str(p.against_votes),
                "abstain_votes": money_str(p.abstain_votes),
                "quorum": money_str(p.quorum),
                "voters": p.voters,
            }
            for p in ended.order_by("voting_ends_at")[:ITEMS_MAX]
        ],
        "executed": [
            {"proposal_id": str(p.id), "title": p.title, "category": p.category, "result": p.execution_result}
            for p in executed.order_by("executed_at")[:ITEMS_MAX]
        ],
        **votes_summary(start, end),
        **delegations_summary(start, end),
        "treasury": flows(start, end),
    }


def report_generate(*, period: str, day: date | None = None) -> TransparencyReport:
    """The report of the period containing `day` (default: today). A report of an ended period is final and
    is never rewritten; one of the running period is regenerated on each request."""
    now = timezone.now()
    try:
        start, end = period_bounds(period, day or now.date())
    except OverflowError:
        raise Invalid(f"day: {day} is out of range") from None
    if start > now:
        raise Invalid(f"the {period} starting {start.date()} has not begun")
    existing = TransparencyReport.objects.filter(period=period, period_start=start).first()
    if existing is not None and existing.final:
        return existing
    fields = {"period_end": end, "final": end <= now, "data": report_data(start, end, now), "generated_at": now}
    try:
        with transaction.atomic(using=DB):
            report, _ = TransparencyReport.objects.update_or_create(period=period, period_start=start, defaults=fields)
    except IntegrityError:  # generated at the same moment elsewhere
        report = TransparencyReport.objects.get(period=period, period_start=start)
    return report


def reports_generate_due() -> list[str]:
    """The beat's work: the report of each period containing yesterday, final once that period has ended
    (a final one is never rewritten, so running it again changes nothing)."""
    yesterday = timezone.now().date() - timedelta(days=1)
    reports = [report_generate(period=period, day=yesterday) for period in Period.values]
    return [f"{r.period}:{r.period_start.date()}:{'final' if r.final else 'running'}" for r in reports]


def report_get(report_id: UUID) -> TransparencyReport:
    report = TransparencyReport.objects.filter(id=report_id).first()
    if report is None:
        raise NotFound(f"no report {report_id}")
    return report


def report_list(*, period: str | None = None, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
    reports = TransparencyReport.objects.all()
    if period:
        reports = reports.filter(period=period)
    return reports.count(), [report_view(r) for r in reports[offset : offset + limit]]


def report_view(report: TransparencyReport) -> dict:
    return {
        "report_id": report.id,
        "period": report.period,
        "period_start": iso(report.period_start),
        "period_end": iso(report.period_end),
        "final": report.final,
        "generated_at": iso(report.generated_at),
        "data": report.data,
    }
