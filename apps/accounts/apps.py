from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts (principals and API keys)"

    def ready(self):
        """A principal or key saved or deleted (the admin's forms too): this process forgets the principals it
        remembered, so that the change holds at once here (elsewhere within AITBC_PRINCIPAL_CACHE_S)."""
        from apps.accounts.auth import principals_changed
        from apps.accounts.models import ApiKey, Principal

        for model in (Principal, ApiKey):
            post_save.connect(principals_changed, sender=model, dispatch_uid=f"principals_saved_{model.__name__}")
            post_delete.connect(principals_changed, sender=model, dispatch_uid=f"principals_gone_{model.__name__}")
