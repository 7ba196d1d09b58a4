from django.apps import AppConfig


class GPUConfig(AppConfig):
    name = "apps.gpu"
    label = "gpu"  # also its database alias
