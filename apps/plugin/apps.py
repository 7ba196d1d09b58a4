from django.apps import AppConfig


class PluginConfig(AppConfig):
    name = "apps.plugin"
    label = "plugin"  # also its database alias
