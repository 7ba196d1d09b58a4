"""Treasury, analytics and transparency reports over HTTP."""

from datetime import date
from typing import Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from aitbc_site.api import Error
from apps.accounts.auth import any_principal
from apps.governance.services.reports import report_generate, report_get, report_list, report_view
from apps.governance.treasury import analytics, treasury_view

router = Router(tags=["governance"])
PeriodName = Literal["day", "week", "month"]


class ReportIn(Schema):
    model_config = ConfigDict(extra="forbid")
    period: PeriodName = "day"
    day: date | None = Field(
        None, ge=date(2000, 1, 1), description="a day in the period (default: today, the report so far)"
    )


@router.get("/governance/treasury", auth=any_principal)
def treasury(request):
    """The DAO treasury from the ledger: balance, allocated by passed funding votes, inflow and outflow by source."""
    return treasury_view()


@router.get("/governance/analytics", auth=any_principal)
def governance_analytics(request):
    """Proposals by status and category, pass rate, turnout, voting power cast, delegation, roles."""
    return analytics()


@router.post("/governance/reports", auth=any_principal, response={200: dict, 422: Error})
def reports_generate(request, body: ReportIn):
    """Generate the transparency report of a period now (an ended period's report is final and kept)."""
    return report_view(report_generate(period=body.period, day=body.day))


@router.get("/governance/reports", auth=any_principal, response={200: dict, 422: Error})
def reports_list(request, period: PeriodName | None = None, limit: int = Query(50, ge=1, le=500),
                 offset: int = Query(0, ge=0, le=1_000_000)):  # fmt: skip
    count, items = report_list(period=period, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/governance/reports/{report_id}", auth=any_principal, response={200: dict, 404: Error})
def reports_get(request, report_id: UUID):
    return report_view(report_get(report_id))
