"""Settings for every AITBC process, read from the environment (see README, "Configuration").

AITBC_SERVICE picks the URLconf a process serves; everything else is shared.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from aitbc_site.config import broker_settings, database_settings, home_dir, secret_from_file
from aitbc_site.domains import FLOWER_PORT, SERVICE_PORTS, SERVICES
from aitbc_site.queues import CONTROL_PLANE_QUEUES, TASK_ROUTES
from aitbc_site.schedule import BEAT_SCHEDULE

env = environ.Env()
BASE_DIR = Path(__file__).resolve().parent.parent
AITBC_HOME = home_dir(env)
AITBC_VERSION = "0.1.0"

AITBC_SERVICE = env.str("AITBC_SERVICE", default="gateway")
if AITBC_SERVICE not in SERVICES:
    raise ImproperlyConfigured(f"AITBC_SERVICE={AITBC_SERVICE!r} is not one of: {', '.join(SERVICES)}")

SECRET_KEY = env.str("AITBC_SECRET_KEY", default="") or secret_from_file(AITBC_HOME / "secret_key")
DEBUG = env.bool("AITBC_DEBUG", default=False)
ALLOWED_HOSTS = env.list("AITBC_ALLOWED_HOSTS", default=["*"])

# Production: TLS ends in front of the gateway, which passes X-Forwarded-Proto on to the services.
AITBC_PRODUCTION = env.bool("AITBC_PRODUCTION", default=False)
if AITBC_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("AITBC_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health$"]  # health checks from inside the deployment speak plain HTTP
    SECURE_HSTS_SECONDS = env.int("AITBC_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Where each process listens. AITBC_PORT_OFFSET shifts every port, to run two stacks on one machine.
AITBC_PORT_OFFSET = env.int("AITBC_PORT_OFFSET", default=0)
AITBC_SERVICE_HOST = env.str("AITBC_SERVICE_HOST", default="127.0.0.1")
# Server processes per service: each has its own database pools (AITBC_DB_POOL_MAX per database it uses)
AITBC_SERVER_WORKERS = env.int("AITBC_SERVER_WORKERS", default=1)
AITBC_SERVICE_PORTS = {name: port + AITBC_PORT_OFFSET for name, port in SERVICE_PORTS.items()}
AITBC_FLOWER_PORT = FLOWER_PORT + AITBC_PORT_OFFSET
AITBC_FLOWER_BASIC_AUTH = env.str("AITBC_FLOWER_BASIC_AUTH", default="")
AITBC_GATEWAY_TIMEOUT_S = env.float("AITBC_GATEWAY_TIMEOUT_S", default=60.0)  # long-polls wait up to 30 s
AITBC_GATEWAY_TIMEOUTS = {
    name: env.float(f"AITBC_GATEWAY_TIMEOUT_{name.upper()}_S", default=AITBC_GATEWAY_TIMEOUT_S) for name in SERVICES
}
AITBC_GATEWAY_BREAKER_FAILURES = env.int("AITBC_GATEWAY_BREAKER_FAILURES", default=5)
AITBC_GATEWAY_BREAKER_OPEN_S = env.float("AITBC_GATEWAY_BREAKER_OPEN_S", default=10.0)
# Upstream connections per service, per gateway process: ordinary requests and long-polls (a miner's poll
# for work) each have their own pool, so that neither can take the other's connections. A request that
# finds its pool full waits AITBC_GATEWAY_POOL_WAIT_S, then gets 503 gateway_busy (the service is not blamed).
AITBC_GATEWAY_POOL_CONNECTIONS = env.int("AITBC_GATEWAY_POOL_CONNECTIONS", default=100)
AITBC_GATEWAY_LONGPOLL_CONNECTIONS = env.int("AITBC_GATEWAY_LONGPOLL_CONNECTIONS", default=500)
AITBC_GATEWAY_POOL_WAIT_S = env.float("AITBC_GATEWAY_POOL_WAIT_S", default=1.0)
# Key checks at the edge: live and unknown keys are remembered this long (at most KEY_CACHE_SIZE of each,
# per process); lookups run on their own threads, never queued behind each other on one.
AITBC_GATEWAY_KEY_CACHE_S = env.float("AITBC_GATEWAY_KEY_CACHE_S", default=5.0)
# How long each service process remembers a key's principal: a revoked key stops working everywhere within this
# time (at once in the process that revoked it); 0 looks every key up on every request.
AITBC_PRINCIPAL_CACHE_S = env.float("AITBC_PRINCIPAL_CACHE_S", default=5.0)
AITBC_GATEWAY_UNKNOWN_KEY_CACHE_S = env.float("AITBC_GATEWAY_UNKNOWN_KEY_CACHE_S", default=5.0)
AITBC_GATEWAY_KEY_CACHE_SIZE = env.int("AITBC_GATEWAY_KEY_CACHE_SIZE", default=10_000)
AITBC_GATEWAY_KEY_CHECK_THREADS = env.int("AITBC_GATEWAY_KEY_CHECK_THREADS", default=4)
# Addresses (or networks) of the proxies in front of the gateway (a TLS terminator) whose X-Forwarded-For
# is believed; anyone else's is dropped, and the peer's own address is the client's.
AITBC_GATEWAY_TRUSTED_PROXIES = env.list("AITBC_GATEWAY_TRUSTED_PROXIES", default=[])

# Who may scrape /metrics on a service's or the gateway's own port (addresses or networks); the gateway never
# forwards /<service>/metrics, so the public reaches none of them.
AITBC_METRICS_ADDRESSES = env.list("AITBC_METRICS_ADDRESSES", default=["127.0.0.1", "::1"])

# Requests per principal, by role (a token bucket in Redis; per process without Redis).
AITBC_RATELIMITS = {
    "client": env.str("AITBC_RATELIMIT_CLIENT", default="1200/minute"),
    "miner": env.str("AITBC_RATELIMIT_MINER", default="6000/minute"),
    "admin": env.str("AITBC_RATELIMIT_ADMIN", default="6000/minute"),
    "service": env.str("AITBC_RATELIMIT_SERVICE", default="60000/minute"),
}
# Requests without a live key, per client address (IPv6: per /64), counted by each gateway process on its
# own: with AITBC_SERVER_WORKERS gateway processes an address may get that many times this rate. Empty: off.
AITBC_RATELIMIT_ANONYMOUS = env.str("AITBC_RATELIMIT_ANONYMOUS", default="600/minute")

# Money and jobs.
AITBC_SIGNING_KEY = env.str("AITBC_SIGNING_KEY", default="")  # base64 Ed25519 seed; else made in AITBC_HOME
AITBC_GENESIS_SUPPLY = env.str("AITBC_GENESIS_SUPPLY", default="1000000000")  # AIT, held by the treasury
AITBC_MAX_PAYLOAD_BYTES = env.int("AITBC_MAX_PAYLOAD_BYTES", default=64 * 1024)  # a job's payload or result

# Governance: each proposal copies these when it is made (voting starts after the delay, lasts the period,
# then the timelock runs before execution); quorum and proposal threshold in AIT of voting power.
AITBC_GOVERNANCE_VOTING_DELAY_S = env.int("AITBC_GOVERNANCE_VOTING_DELAY_S", default=86400)
AITBC_GOVERNANCE_VOTING_PERIOD_S = env.int("AITBC_GOVERNANCE_VOTING_PERIOD_S", default=7 * 86400)
AITBC_GOVERNANCE_TIMELOCK_S = env.int("AITBC_GOVERNANCE_TIMELOCK_S", default=2 * 86400)
AITBC_GOVERNANCE_QUORUM = env.str("AITBC_GOVERNANCE_QUORUM", default="1000")
AITBC_GOVERNANCE_PROPOSAL_THRESHOLD = env.str("AITBC_GOVERNANCE_PROPOSAL_THRESHOLD", default="100")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "apps.accounts",
    "apps.gpu",
    "apps.marketplace",
    "apps.trading",
    "apps.governance",
    "apps.ai",
    "apps.monitoring",
    "apps.hermes",
    "apps.plugin",
]

# A service's middleware all runs in the event loop (Django's own would take a thread hop for each of its steps on
# every request); the services authenticate by API key, so they need no sessions, CSRF or messages. The gateway's
# own Django pages (the admin) keep Django's full set (what `check --deploy` looks for).
SERVICE_MIDDLEWARE = [
    "aitbc_site.metrics.PrometheusMiddleware",  # outermost: times the whole answer
    "aitbc_site.middleware.SecurityMiddleware",
    "aitbc_site.middleware.ForwardedPrefixMiddleware",
    "aitbc_site.inputs.InputDoorMiddleware",  # before any view touches the database
    "aitbc_site.middleware.StaticFilesMiddleware",  # WhiteNoise, in either mode
    "aitbc_site.middleware.CommonMiddleware",
    "aitbc_site.middleware.XFrameOptionsMiddleware",
]
ADMIN_MIDDLEWARE = [
    "aitbc_site.metrics.PrometheusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "aitbc_site.middleware.ForwardedPrefixMiddleware",
    "aitbc_site.inputs.InputDoorMiddleware",  # before sessions or auth touch the database
    "aitbc_site.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
MIDDLEWARE = ADMIN_MIDDLEWARE if AITBC_SERVICE == "gateway" else SERVICE_MIDDLEWARE
# The admin is served by the gateway only: a service's URLconf has no admin, so its session middleware is not missed.
SILENCED_SYSTEM_CHECKS = [] if AITBC_SERVICE == "gateway" else ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = f"aitbc_site.urls.{AITBC_SERVICE}"
ASGI_APPLICATION = "aitbc_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = database_settings(env, AITBC_HOME)
DATABASE_ROUTERS = ["aitbc_site.router.DomainRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = AITBC_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True

# Bodies above this are refused with 413 (jobs carry payloads, not data sets).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("AITBC_MAX_BODY_BYTES", default=1024 * 1024)

# Celery (read by aitbc_site.celery with the CELERY_ namespace).
_broker = broker_settings(env, AITBC_HOME)
CELERY_BROKER_URL = _broker["broker_url"]
CELERY_RESULT_BACKEND = _broker["result_backend"]
CELERY_BROKER_TRANSPORT_OPTIONS = _broker["broker_transport_options"]
# The broker as GPU hosts reach it (each miner gets its own user there); unset: CELERY_BROKER_URL's address.
AITBC_MINER_BROKER_URL = _broker["miner_broker_url"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = CONTROL_PLANE_QUEUES[0]
CELERY_TASK_ROUTES = TASK_ROUTES
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
CELERY_BEAT_SCHEDULE_FILENAME = str(AITBC_HOME / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("AITBC_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
