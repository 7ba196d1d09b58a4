"""The ASGI application of one service; AITBC_SERVICE picks which."""

import os

from django.core.asgi import get_asgi_application

from aitbc_site.lifecycle import die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")

application = get_asgi_application()

die_with_parent()
