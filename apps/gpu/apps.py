from django.apps import AppConfig


class GPUConfig(AppConfig):
    name = "apps.gpu"
    label = "gpu"  # also its database alias

    def ready(self):
        from apps.accounts.facade import keys_revoked
        from apps.gpu.broker import broker_users_remove_for_principal

        keys_revoked.provide(broker_users_remove_for_principal)
