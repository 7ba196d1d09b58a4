"""The gateway process: `/<service>/...` is proxied to that service; the rest (admin, /health) is Django."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")
os.environ.setdefault("AITBC_SERVICE", "gateway")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from aitbc_site.lifecycle import die_with_parent  # noqa: E402

die_with_parent()

from gateway.app import gateway_application  # noqa: E402
from gateway.proxy import ServiceProxy  # noqa: E402

proxy = ServiceProxy()
application = gateway_application(django_application, proxy)
