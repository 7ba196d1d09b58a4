from django.apps import AppConfig


class GPUConfig(AppConfig):
    name = "apps.gpu"
    label = "gpu"  # also its database alias

    def ready(self):
        """gpu provides what the apps below it need to know of miners (their hooks, design/layers.md)."""
        from apps.accounts import facade as accounts
        from apps.gpu import facade as gpu
        from apps.gpu.services.broker import broker_users_remove_for_principal
        from apps.plugin import contracts as plugin
        from apps.trading import contracts as trading

        accounts.keys_revoked.provide(broker_users_remove_for_principal)
        plugin.miner_of_principal.provide(gpu.miner_id_of_principal)
        plugin.verdicts_changed.provide(gpu.miners_plugins_recheck)
        trading.seller_track_record.provide(gpu.miner_track_record)
