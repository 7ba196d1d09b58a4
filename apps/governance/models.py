from django.db import models


class Parameter(models.Model):
    """A platform parameter changed from its default (by governance or an admin)."""

    name = models.CharField(max_length=64, primary_key=True)
    value = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name}={self.value}"
