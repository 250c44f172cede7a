"""Staff dashboard: training runs, charts, "retrain now", per-member explanations and A/B results."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from core.masking import mask_email
from members.masking import can_view_personal_data
from members.models import User
from members.services.personal_data import personal_data_access_record
from recommender import stats
from recommender.models import (
    BoughtTogetherRule,
    Experiment,
    MemberCategoryPrediction,
    MemberRecommendation,
    PopularProduct,
    ProductSimilarity,
    TrainingRun,
)
from recommender.selectors import member_recommendation_explain
from recommender.services.experiments import experiment_delete, experiment_save, experiment_validate
from recommender.services.training import training_run_cancel
from recommender.services.training.runs import training_run_delete
from recommender.tasks import retrain_enqueue

CHART_WIDTH, CHART_HEIGHT = 600, 160
RUN_ROW_MODELS = (
    MemberRecommendation,
    ProductSimilarity,
    BoughtTogetherRule,
    PopularProduct,
    MemberCategoryPrediction,
)


def bar_chart(values, *, labels, max_value=None):
    """Bars for an inline SVG drawn with attributes only (the CSP forbids inline styles)."""
    values = [v if v is not None else 0.0 for v in values]
    top = max_value or max(values + [1e-9])
    slot = CHART_WIDTH / max(len(values), 1)
    bars = []
    for index, (value, label) in enumerate(zip(values, labels)):
        height = round(CHART_HEIGHT * value / top, 1) if top else 0
        bars.append(
            {
                "x": round(index * slot + slot * 0.1, 1),
                "width": round(slot * 0.8, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "height": height,
                "value": value,
                "label": label,
            }
        )
    return {"bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT}


class ExplainForm(forms.Form):
    member = forms.CharField(label=gettext_lazy("会员邮箱或编号"), max_length=254)

    def __init__(self, *args, allow_email=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_email = allow_email  # looking up by e-mail tells whether an address is a member's

    def clean_member(self):
        value = self.cleaned_data["member"].strip()
        if not value.isdigit() and not self.allow_email:
            raise ValidationError(_("没有“查看会员个人信息”权限时只能按会员编号查找。"))
        lookup = {"pk": int(value)} if value.isdigit() else {"email__iexact": value}
        user = User.objects.filter(**lookup).first()
        if user is None:
            raise ValidationError(_("找不到该会员。"))
        return user


def retrain_message(request_outcome) -> tuple[int, str]:
    """What "retrain now" tells staff: what really happens, not just that a button was pressed."""
    run = request_outcome.run
    started = timezone.localtime(run.started_at).strftime("%H:%M") if run is not None else ""
    outcome = request_outcome.outcome
    if outcome == "queued":
        return messages.SUCCESS, _(
            "已加入训练队列：后台任务开始后会在看板上显示进度，通过质量门槛后新的推荐会自动启用。"
        )
    if outcome == "taking_over":
        return messages.WARNING, _(
            "训练 #%(id)s（开始于 %(time)s）已失去响应，将被标记为失败；新的训练已加入队列。"
        ) % {"id": run.pk, "time": started}
    if outcome == "running":
        return messages.WARNING, _(
            "训练 #%(id)s 自 %(time)s 起正在进行，本次未重复安排；需要重新开始时请先取消它。"
        ) % {"id": run.pk, "time": started}
    if outcome == "ran" and run is not None:
        return messages.SUCCESS, _("训练 #%(id)s 已完成：%(status)s。") % {
            "id": run.pk,
            "status": run.get_status_display(),
        }
    if outcome == "failed":
        return messages.ERROR, _("训练失败，当前推荐保持不变；错误记录在训练 #%(id)s 中。") % {
            "id": run.pk if run is not None else "-"
        }
    if outcome == "unavailable":
        return messages.ERROR, _("任务队列暂时不可用，未安排训练，请稍后再试。")
    return messages.INFO, _("已提交训练请求。")


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "is_active",
        "trigger",
        "started_at",
        "duration",
        "serving_model",
        "precision_at_10",
        "gate_passed",
    )
    list_filter = ("status", "is_active", "trigger")
    change_list_template = "recommender/admin/trainingrun_change_list.html"
    readonly_fields = (
        "status",
        "is_active",
        "started_at",
        "finished_at",
        "activated_at",
        "trigger",
        "serving_model",
        "gate_passed",
        "gate_reason",
        "gate",
        "metrics_table",
        "timings_table",
        "data_sizes",
        "parameters",
        "shards_total",
        "shards_completed",
        "lease_expires_at",
        "code_version",
        "error",
    )
    exclude = ("metrics", "timings")
    actions = ["cancel_runs"]

    class Media:
        css = {"all": ["css/admin_recommender.css"]}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # --- Deleting: never the active or a running run; an old one's rows go in bulk (training_run_delete) ---

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_active or obj.status == TrainingRun.Status.RUNNING):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # Counts per table, not one line per row: listing a run's 100,000 rows took seconds per page.
        runs = list(objs)
        ids = [run.pk for run in runs]
        summary = [
            f"{model._meta.verbose_name}: {model.objects.filter(run_id__in=ids).count()}"
            for model in RUN_ROW_MODELS
        ]
        perms_needed = set() if self.has_delete_permission(request) else {str(self.opts.verbose_name)}
        return (
            [str(run) for run in runs] + [summary],
            {str(self.opts.verbose_name_plural): len(runs)},
            perms_needed,
            [],
        )

    def delete_model(self, request, obj):
        training_run_delete(run_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for run_id in queryset.order_by("pk").values_list("pk", flat=True):
            training_run_delete(run_id=run_id)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, description = actions["delete_selected"]
            actions["delete_selected"] = (self._deletable_only(func), name, description)
        return actions

    def _deletable_only(self, delete_selected):
        def action(modeladmin, request, queryset):
            kept = queryset.filter(Q(is_active=True) | Q(status=TrainingRun.Status.RUNNING))
            for run in kept.order_by("pk"):
                reason = (
                    _("训练 #%(id)s 正在使用中，不能删除；先启用另一次训练。")
                    if run.is_active
                    else _("训练 #%(id)s 正在进行，不能删除；请先取消它。")
                )
                messages.warning(request, reason % {"id": run.pk})
            rest = queryset.exclude(pk__in=kept.values("pk"))
            if not rest.exists():
                return None
            return delete_selected(modeladmin, request, rest)

        return action

    @admin.action(description=gettext_lazy("取消所选的进行中训练"))
    def cancel_runs(self, request, queryset):
        running = list(queryset.filter(status=TrainingRun.Status.RUNNING).values_list("pk", flat=True))
        if not running:
            messages.warning(request, _("所选训练都已结束，没有需要取消的。"))
        for run_id in running:
            try:
                training_run_cancel(run_id=run_id, cancelled_by=f"staff #{request.user.pk}")
            except DomainError as exc:  # finished in the meantime
                messages.warning(request, exc.message)
                continue
            messages.success(request, _("训练 #%(id)s 已取消，现在可以重新训练。") % {"id": run_id})

    @admin.display(description=gettext_lazy("耗时（秒）"))
    def duration(self, run):
        return f"{run.duration_seconds:.1f}" if run.duration_seconds is not None else "-"

    @admin.display(description="precision@10")
    def precision_at_10(self, run):
        value = run.metrics.get(run.serving_model, {}).get("precision@10")
        return f"{value:.4f}" if value is not None else "-"

    @admin.display(description=gettext_lazy("各模型评估指标"))
    def metrics_table(self, run):
        names = [
            "precision@10",
            "precision_purchase@10",
            "recall@10",
            "ndcg@10",
            "map@10",
            "hit_rate@10",
            "coverage@10",
            "validation_ndcg@10",
            "fit_seconds",
        ]
        header = format_html_join(
            "", "<th>{}</th>", ((n.replace("map@", "MAP@"),) for n in ["model", *names])
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td>{}</tr>",
            (
                (
                    model,
                    format_html_join(
                        "",
                        "<td>{}</td>",
                        (
                            (
                                f"{values[n]:.4f}"
                                if isinstance(values.get(n), (int, float))
                                else values.get("error", "-"),
                            )
                            for n in names
                        ),
                    ),
                )
                for model, values in run.metrics.items()
            ),
        )
        return format_html(
            '<table class="rec-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', header, rows
        )

    @admin.display(description=gettext_lazy("各阶段耗时"))
    def timings_table(self, run):
        return format_html(
            '<table class="rec-table"><tbody>{}</tbody></table>',
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td></tr>", ((k, f"{v:.3f} s") for k, v in run.timings.items())
            ),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard_view), name="recommender_dashboard"),
            path("retrain/", wrap(self.retrain_view), name="recommender_retrain"),
            path("why/", wrap(self.why_view), name="recommender_why"),
        ] + super().get_urls()

    def dashboard_view(self, request):
        runs = stats.metrics_over_runs()
        days = stats.click_through_by_day()
        ctr = stats.click_through()
        context = {
            **self.admin_site.each_context(request),
            "title": _("推荐系统看板"),
            "opts": self.model._meta,
            "active": TrainingRun.objects.filter(is_active=True).first(),
            "running": TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).first(),
            "precision_chart": bar_chart(
                [r["precision"] for r in runs], labels=[f"#{r['run'].pk}" for r in runs]
            ),
            "ctr_chart": bar_chart([d["rate"] for d in days], labels=[d["day"].isoformat() for d in days]),
            "runs": runs,
            "ctr_blocks": ctr["block"],
            "ctr_models": ctr["model"],
            "experiments": [
                (e, stats.experiment_results(e)) for e in Experiment.objects.filter(is_running=True)
            ],
        }
        return TemplateResponse(request, "recommender/admin/dashboard.html", context)

    def retrain_view(self, request):
        if request.method != "POST":
            return redirect("admin:recommender_dashboard")
        if not request.user.has_perm("recommender.view_trainingrun"):
            messages.error(request, _("没有权限。"))
            return redirect("admin:index")
        level, message = retrain_message(retrain_enqueue(trigger="staff"))
        messages.add_message(request, level, message)
        return redirect("admin:recommender_dashboard")

    def why_view(self, request):
        unmasked = can_view_personal_data(request.user)
        form = ExplainForm(request.GET or None, allow_email=unmasked)
        explanation = (
            member_recommendation_explain(user=form.cleaned_data["member"]) if form.is_valid() else None
        )
        member = form.cleaned_data["member"] if explanation else None
        if member is not None and unmasked:
            personal_data_access_record(
                staff=request.user,
                member_ids=[member.pk],
                view="recommender why",
                page=request.get_full_path(),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("为什么推荐这些"),
            "opts": self.model._meta,
            "form": form,
            "why": explanation,
            "member": member,
            "member_name": (member.email if unmasked else mask_email(member.email)) if member else "",
        }
        return TemplateResponse(request, "recommender/admin/why.html", context)


class ExperimentForm(forms.ModelForm):
    """The rules live in the experiment service (the API and commands get them too); shown here per field."""

    class Meta:
        model = Experiment
        fields = ("name", "description", "arms", "is_running")

    def _post_clean(self):
        super()._post_clean()
        if "arms" in self.errors:
            return
        try:
            experiment_validate(experiment=self.instance)
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    list_display = ("name", "is_running", "arm_summary", "created_at")
    readonly_fields = ("results",)

    class Media:
        css = {"all": ["css/admin_recommender.css"]}

    def save_model(self, request, obj, form, change):
        experiment_save(experiment=obj)

    def delete_model(self, request, obj):
        experiment_delete(experiment=obj)

    def delete_queryset(self, request, queryset):
        for experiment in queryset:
            experiment_delete(experiment=experiment)

    @admin.display(description=gettext_lazy("分组"))
    def arm_summary(self, experiment):
        return ", ".join(
            f"{a.get('name')}: {a.get('model')} ({a.get('share')})" for a in experiment.arms or []
        )

    @admin.display(description=gettext_lazy("结果（95% 置信区间，按会员计算）"))
    def results(self, experiment):
        if not experiment.pk:
            return "-"
        rows = stats.experiment_results(experiment)
        return format_html(
            '<table class="rec-table"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("分组"),
            _("模型"),
            _("会员数"),
            _("曝光 / 点击"),
            _("点击率"),
            _("转化率（点击后 7 天内购买）"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        r["name"],
                        r["model"],
                        r["members"],
                        r["ctr"]["impressions"],
                        r["ctr"]["clicks"],
                        f"{r['ctr']['rate']:.2%} [{r['ctr']['low']:.2%}, {r['ctr']['high']:.2%}]",
                        f"{r['conversion']['rate']:.2%} [{r['conversion']['low']:.2%}, {r['conversion']['high']:.2%}]",
                    )
                    for r in rows
                ),
            ),
        )

    def get_fields(self, request, obj=None):
        fields = ["name", "description", "arms", "is_running"]
        return fields + ["results"] if obj else fields
