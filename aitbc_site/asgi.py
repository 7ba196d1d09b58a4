"""The ASGI application of one service; AITBC_SERVICE picks which."""

import os

from django.core.asgi import get_asgi_application

from aitbc_site.lifecycle import die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402

from aitbc_site.bodies import body_limited  # noqa: E402

# Django would spool a body of any size to disk before its size check: the limit comes first
application = body_limited(django_application, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

die_with_parent()
