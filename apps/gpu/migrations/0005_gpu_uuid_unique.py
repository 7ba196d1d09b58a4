"""A GPU's NVML UUID belongs to one miner: unique across the registry, no longer only per miner.

Rows that already share a UUID keep it on the one registered first; each later copy is renamed
`dup:<row id>:<uuid>` and marked OFFLINE, so that it can be neither offered nor booked, while its bookings,
reviews and telemetry stay as they were. The miner that reported it gets 409 gpu_taken when it reports it again.
"""

from django.db import migrations, models


def duplicates_retire(apps, schema_editor):
    Gpu = apps.get_model("gpu", "Gpu")
    shared = (
        Gpu.objects.values("uuid").annotate(n=models.Count("id")).filter(n__gt=1).values_list("uuid", flat=True)
    )
    for uuid in list(shared):
        _, *later = Gpu.objects.filter(uuid=uuid).order_by("created_at", "id")
        for gpu in later:
            Gpu.objects.filter(id=gpu.id).update(uuid=f"dup:{gpu.id.hex}:{uuid}"[:100], status="OFFLINE")


class Migration(migrations.Migration):
    dependencies = [
        ("gpu", "0004_miner_broker_user"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="gpu",
            name="gpu_unique_per_miner",
        ),
        migrations.AlterField(
            model_name="gpu",
            name="uuid",
            field=models.CharField(help_text="NVML's UUID: a GPU belongs to one miner", max_length=100),
        ),
        migrations.AlterField(
            model_name="gpubooking",
            name="gpu_ids",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="the registry's GPU ids it holds from starts_at to ends_at (gpu_count)",
            ),
        ),
        migrations.RunPython(duplicates_retire, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="gpu",
            constraint=models.UniqueConstraint(fields=("uuid",), name="gpu_uuid_unique"),
        ),
    ]
