"""The monitoring service's router (the dashboard's data) and its HTML page."""

from apps.monitoring.api.dashboard import router
from apps.monitoring.api.pages import dashboard_page

__all__ = ["dashboard_page", "router"]
