from django.apps import AppConfig


class AIConfig(AppConfig):
    name = "apps.ai"
    label = "ai"  # also its database alias

    def ready(self):
        """ai provides what the apps below it need from the job pipeline (their hooks, design/layers.md)."""
        from apps.ai.selectors.jobs import job_type_counts
        from apps.ai.selectors.records import miner_run_records
        from apps.ai.services.lifecycle import jobs_requeue_for_miner, leases_renew
        from apps.gpu import contracts as gpu
        from apps.plugin import contracts as plugin

        gpu.leases_renew.provide(leases_renew)
        gpu.miner_jobs_requeue.provide(jobs_requeue_for_miner)
        gpu.miner_track_records.provide(miner_run_records)
        plugin.job_type_counts.provide(job_type_counts)
