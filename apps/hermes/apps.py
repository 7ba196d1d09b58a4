from django.apps import AppConfig


class HermesConfig(AppConfig):
    name = "apps.hermes"
    label = "hermes"  # also its database alias
