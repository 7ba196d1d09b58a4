"""GET /dashboard: the operators' page. It holds no data itself: its script asks the JSON endpoints with the
admin key the operator typed (kept in this tab's sessionStorage only) and refreshes every few seconds."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

REFRESH_SECONDS = 5


@require_GET
def dashboard_page(request):
    return render(request, "monitoring/dashboard.html", {"refresh_seconds": REFRESH_SECONDS})
