from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "apps.governance"
    label = "governance"  # also its database alias

    def ready(self):
        from aitbc_site.parameters import parameters_stored
        from apps.governance.facade import parameters_stored as stored

        parameters_stored.provide(stored)
