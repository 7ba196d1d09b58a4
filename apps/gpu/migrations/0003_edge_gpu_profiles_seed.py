"""Seeds the edge GPU profiles with published specifications.

Throughputs are dense (no structured sparsity), from the vendor's datasheet or architecture whitepaper
named in each row; GeForce FP16 tensor figures are with FP16 accumulate. Memory is the card's capacity in
MiB; the registry's own memory_mb (as NVML reports it) is what optimisation uses when a GPU has one.
"""

from django.db import migrations

PROFILES = [
    # model, category, memory_mb, tdp_w, fp32, fp16 tensor, bf16, int8 tensor, compute capability, source
    ("RTX 4090", "consumer", 24576, 450, 82.6, 330.3, True, 660.6, "8.9", "NVIDIA Ada Lovelace architecture whitepaper"),
    ("RTX 4080", "consumer", 16384, 320, 48.7, 194.9, True, 389.9, "8.9", "NVIDIA Ada Lovelace architecture whitepaper"),
    ("RTX 3090", "consumer", 24576, 350, 35.6, 142.0, True, 284.0, "8.6", "NVIDIA Ampere GA102 architecture whitepaper"),
    ("RTX 3060", "consumer", 12288, 170, 12.7, 51.0, True, 101.9, "8.6", "NVIDIA RTX 3060 specifications (112 tensor cores, 1.777 GHz)"),
    ("GTX 1080 Ti", "consumer", 11264, 250, 11.3, 0.0, False, 0.0, "6.1", "NVIDIA GTX 1080 Ti specifications (no tensor cores)"),
    ("Jetson AGX Orin", "edge", 65536, 60, 5.3, 42.5, True, 85.0, "8.7", "NVIDIA Jetson AGX Orin technical brief (64GB module, GPU only)"),
    ("T4", "datacenter", 16384, 70, 8.1, 65.0, False, 130.0, "7.5", "NVIDIA T4 datasheet"),
    ("L4", "datacenter", 24576, 72, 30.3, 121.0, True, 242.5, "8.9", "NVIDIA L4 datasheet"),
    ("A100 80GB", "datacenter", 81920, 400, 19.5, 312.0, True, 624.0, "8.0", "NVIDIA A100 datasheet (SXM4)"),
    ("H100 80GB HBM3", "datacenter", 81920, 700, 67.0, 989.4, True, 1978.9, "9.0", "NVIDIA H100 datasheet (SXM5)"),
]
FIELDS = ("category", "memory_mb", "tdp_w", "fp32_tflops", "fp16_tflops", "bf16", "int8_tops", "compute_capability", "source")


def seed(apps, schema_editor):
    profiles = apps.get_model("gpu", "EdgeGpuProfile").objects.using(schema_editor.connection.alias)
    for model, *values in PROFILES:
        profiles.update_or_create(model=model, defaults=dict(zip(FIELDS, values, strict=True)))


def unseed(apps, schema_editor):
    profiles = apps.get_model("gpu", "EdgeGpuProfile").objects.using(schema_editor.connection.alias)
    profiles.filter(model__in=[p[0] for p in PROFILES]).delete()


class Migration(migrations.Migration):
    dependencies = [("gpu", "0002_bookings_reviews_edge_profiles")]

    operations = [migrations.RunPython(seed, unseed)]
