from django.contrib import admin

from aitbc_site.admin import OperatorActions, ReadOnlyAdmin, ReadOnlyInline
from apps.accounts.facade import operator_principal
from apps.ai.models import Benchmark, BenchmarkRun, Job, JobAttempt, TuneStudy, TuneTrial
from apps.ai.services.lifecycle import job_cancel, job_requeue


class JobAttemptInline(ReadOnlyInline):
    model = JobAttempt
    fields = ("number", "miner_id", "outcome", "error", "started_at", "ended_at")
    readonly_fields = fields


@admin.register(Job)
class JobAdmin(OperatorActions, ReadOnlyAdmin):
    """Jobs hold escrow and carry prices: they change only through the job services (these actions included)."""

    list_display = ("id", "type", "state", "client_id", "assigned_miner_id", "attempts", "max_price", "price",
                    "created_at", "finished_at")  # fmt: skip
    list_filter = ("state", "type", "region", "gpu_model")
    search_fields = ("id", "client_id", "assigned_miner_id", "idempotency_key")
    date_hierarchy = "created_at"
    inlines = [JobAttemptInline]
    actions = ["requeue", "cancel"]

    @admin.action(description="Requeue the selected jobs (dispatch them again)", permissions=["operate"])
    def requeue(self, request, queryset):
        operator = operator_principal(request.user)
        self.act_on_each(request, queryset, "requeued", lambda job: job_requeue(operator=operator, job_id=job.id))

    @admin.action(description="Cancel the selected jobs (escrow refunded)", permissions=["operate"])
    def cancel(self, request, queryset):
        operator = operator_principal(request.user)
        self.act_on_each(request, queryset, "canceled", lambda job: job_cancel(client=operator, job_id=job.id))


@admin.register(JobAttempt)
class JobAttemptAdmin(ReadOnlyAdmin):
    list_display = ("job", "number", "miner_id", "outcome", "started_at", "ended_at")
    list_filter = ("outcome",)
    search_fields = ("job__id", "miner_id")


@admin.register(Benchmark)
class BenchmarkAdmin(ReadOnlyAdmin):
    """Benchmarks steer dispatch: their runs change only as their jobs finish."""

    list_display = ("id", "job_type", "status", "client_id", "created_at", "finished_at")
    list_filter = ("status", "job_type")
    search_fields = ("id", "client_id")


@admin.register(BenchmarkRun)
class BenchmarkRunAdmin(ReadOnlyAdmin):
    list_display = ("benchmark", "miner_id", "job_type", "job_id", "state", "seconds", "created_at")
    list_filter = ("state", "job_type")
    search_fields = ("benchmark__id", "miner_id", "job_id")


@admin.register(TuneStudy)
class TuneStudyAdmin(ReadOnlyAdmin):
    list_display = ("id", "job_type", "metric", "goal", "status", "client_id", "created_at", "finished_at")
    list_filter = ("status", "job_type")
    search_fields = ("id", "client_id")


@admin.register(TuneTrial)
class TuneTrialAdmin(ReadOnlyAdmin):
    list_display = ("study", "number", "job_id", "state", "value", "created_at")
    list_filter = ("state",)
    search_fields = ("study__id", "job_id")
