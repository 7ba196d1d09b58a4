"""The Celery app every AITBC worker, beat and Flower process uses."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")

app = Celery("aitbc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
