"""The one place that names AITBC's services, their ports and their databases."""

from types import MappingProxyType

# Each domain app owns one database alias of the same name.
DOMAINS = ("gpu", "marketplace", "trading", "governance", "ai", "monitoring", "hermes", "plugin")

# Every HTTP process and its default port (DESIGN.md). The gateway fronts the others.
SERVICE_PORTS = MappingProxyType(
    {
        "gateway": 8080,
        "gpu": 8101,
        "marketplace": 8102,
        "trading": 8104,
        "governance": 8105,
        "ai": 8106,
        "monitoring": 8107,
        "hermes": 8108,
        "plugin": 8109,
    }
)
SERVICES = tuple(SERVICE_PORTS)
FLOWER_PORT = 5555

# app label -> database alias. Django's own apps and accounts live in `default`.
APP_DATABASES = MappingProxyType(
    {
        "admin": "default",
        "auth": "default",
        "contenttypes": "default",
        "sessions": "default",
        "accounts": "default",
        **{domain: domain for domain in DOMAINS},
    }
)
DATABASE_ALIASES = ("default", *DOMAINS)


def service_database(service: str) -> str:
    """The database a service's process owns (the gateway owns `default`)."""
    return service if service in DOMAINS else "default"
