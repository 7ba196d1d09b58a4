from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"  # also its database alias

    def ready(self):
        from aitbc_site.metrics import domain_gauges
        from apps.monitoring.metrics import gauges_of

        domain_gauges.provide(gauges_of)
