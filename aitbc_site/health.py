"""`GET /health`: the process's own service name, its database and its broker, each checked for real."""

import os
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connections
from django.http import JsonResponse

from aitbc_site.domains import service_database


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"error: {text[0] if text else type(exc).__name__}"


def database_check(alias: str) -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is the answer, not a crash
        return _first_line(exc)
    return "ok"


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def broker_check() -> str:
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            _redis_client(url).ping()
        else:
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
            if not os.access(folder, os.W_OK):
                return f"error: broker folder {folder} is not writable"
    except Exception as exc:
        return _first_line(exc)
    return "ok"


def health_report(service: str) -> dict:
    aliases = dict.fromkeys(["default", service_database(service)])
    database = next((r for r in (database_check(a) for a in aliases) if r != "ok"), "ok")
    checks = {"database": database, "broker": broker_check()}
    failing = [name for name, result in checks.items() if result != "ok"]
    report = {
        "service": service,
        "status": "ok" if not failing else "error",
        "checks": checks,
        "version": settings.AITBC_VERSION,
    }
    if failing:
        report["detail"] = "; ".join(f"{name}: {checks[name]}" for name in failing)
        report["code"] = "unhealthy"
    return report


def health(request):
    report = health_report(settings.AITBC_SERVICE)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
