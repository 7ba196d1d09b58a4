"""The ASGI application of one service; AITBC_SERVICE picks which."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")

application = get_asgi_application()
