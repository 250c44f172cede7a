"""Training runs and the top-N tables they produce; pages read only the active run's rows."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TrainingRun(models.Model):
    """One retraining: its parameters, sizes, timings, metrics, gate decision and outcome."""

    class Status(models.TextChoices):
        RUNNING = "running", _("运行中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败")
        REJECTED = "rejected", _("未通过质量门槛")
        CANCELLED = "cancelled", _("已取消")

    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    # Exactly one run serves pages; switched in one transaction (see training_run_activate).
    is_active = models.BooleanField(_("当前使用"), default=False)
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    # The lock is the unique "running" row; a run whose lease lapsed is taken as dead.
    lease_expires_at = models.DateTimeField(_("锁过期时间"), null=True, blank=True)
    trigger = models.CharField(_("触发方式"), max_length=20, default="manual")
    parameters = models.JSONField(_("参数"), default=dict, blank=True)
    data_sizes = models.JSONField(_("数据规模"), default=dict, blank=True)
    metrics = models.JSONField(_("评估指标"), default=dict, blank=True)
    timings = models.JSONField(_("各阶段耗时（秒）"), default=dict, blank=True)
    serving_model = models.CharField(_("主推模型"), max_length=40, blank=True)
    gate_passed = models.BooleanField(_("通过质量门槛"), null=True, blank=True)
    gate_reason = models.TextField(_("门槛说明"), blank=True)
    # The gate's figures: protocol, new and reference precision, the paired bootstrap interval, the verdict.
    gate = models.JSONField(_("门槛明细"), default=dict, blank=True)
    shards_total = models.PositiveIntegerField(_("分片总数"), default=0)
    # Shard numbers already written: a redelivered shard task is recognised and not counted twice.
    shards_completed = models.JSONField(_("已完成分片"), default=list, blank=True)
    error = models.TextField(_("错误"), blank=True)
    code_version = models.CharField(_("代码版本"), max_length=80, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("训练记录")
        verbose_name_plural = _("训练记录")
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="running"), name="recommender_one_running_run"
            ),
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="recommender_one_active_run"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def served_list(self) -> dict:
        """The served lists' figures (variety, novelty, the re-rank's accuracy cost) of the serving model,
        kept in its metrics by services.training.variety; {} for runs from before them."""
        return (self.metrics.get(self.serving_model) or {}).get("served_list") or {}

    @property
    def duration_seconds(self):
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class MemberRecommendation(models.Model):
    """A member's top-N list of one run and one model (model "realtime" = refreshed after events)."""

    run = models.ForeignKey(TrainingRun, related_name="member_recommendations", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    product = models.ForeignKey("shop.Product", related_name="+", on_delete=models.CASCADE)
    model = models.CharField(_("模型"), max_length=40)
    score = models.FloatField(_("得分"))
    rank = models.PositiveSmallIntegerField(_("名次"))
    reason = models.CharField(_("理由代码"), max_length=40, blank=True)
    reason_product = models.ForeignKey(
        "shop.Product", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["run", "user", "model", "rank"]
        verbose_name = _("会员推荐")
        verbose_name_plural = _("会员推荐")
        indexes = [models.Index(fields=["run", "user", "model", "rank"])]


class ProductSimilarity(models.Model):
    class Kind(models.TextChoices):
        ALSO_VIEWED = "also_viewed", _("看了又看")
        ALSO_BOUGHT = "also_bought", _("买了又买")
        SIMILAR_CONTENT = "similar_content", _("内容相似")

    run = models.ForeignKey(TrainingRun, related_name="similarities", on_delete=models.CASCADE)
    product = models.ForeignKey("shop.Product", related_name="+", on_delete=models.CASCADE)
    similar_product = models.ForeignKey("shop.Product", related_name="+", on_delete=models.CASCADE)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    score = models.FloatField(_("得分"))
    rank = models.PositiveSmallIntegerField(_("名次"))

    class Meta:
        ordering = ["run", "product", "kind", "rank"]
        verbose_name = _("相似商品")
        verbose_name_plural = _("相似商品")
        indexes = [models.Index(fields=["run", "product", "kind", "rank"])]


class BoughtTogetherRule(models.Model):
    """Association rule antecedent → consequent learned from order baskets."""

    run = models.ForeignKey(TrainingRun, related_name="rules", on_delete=models.CASCADE)
    antecedent = models.ForeignKey("shop.Product", related_name="+", on_delete=models.CASCADE)
    consequent = models.ForeignKey("shop.Product", related_name="+", on_delete=models.CASCADE)
    support = models.FloatField(_("支持度"))
    confidence = models.FloatField(_("置信度"))
    lift = models.FloatField(_("提升度"))

    class Meta:
        ordering = ["run", "antecedent", "-confidence"]
        verbose_name = _("关联规则")
        verbose_name_plural = _("关联规则")
        indexes = [models.Index(fields=["run", "antecedent", "-confidence"])]


class PopularProduct(models.Model):
    """Popular lists for cold starts: segment "all", "category:<id>" or "profile:<age band>:<gender>"."""

    run = models.ForeignKey(TrainingRun, related_name="popular", on_delete=models.CASCADE)
    segment = models.CharField(_("人群"), max_length=60)
    product = models.ForeignKey("shop.Product", related_name="+", on_delete=models.CASCADE)
    score = models.FloatField(_("得分"))
    rank = models.PositiveSmallIntegerField(_("名次"))

    class Meta:
        ordering = ["run", "segment", "rank"]
        verbose_name = _("热门商品")
        verbose_name_plural = _("热门商品")
        indexes = [models.Index(fields=["run", "segment", "rank"])]


class MemberCategoryPrediction(models.Model):
    """Each member's predicted next category: what the personal offers are made for."""

    run = models.ForeignKey(TrainingRun, related_name="category_predictions", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    category = models.ForeignKey("shop.Category", related_name="+", on_delete=models.CASCADE)
    score = models.FloatField(_("得分"))
    offer_issued = models.BooleanField(_("已发放优惠"), default=False)

    class Meta:
        verbose_name = _("会员品类预测")
        verbose_name_plural = _("会员品类预测")
        constraints = [
            models.UniqueConstraint(fields=["run", "user"], name="recommender_one_prediction_per_run"),
        ]


class Experiment(models.Model):
    """An A/B test: members are split into arms by a stable hash, each arm served by one model."""

    name = models.SlugField(_("实验名"), max_length=60, unique=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    # [{"name": "A", "model": "hybrid", "share": 50}, {"name": "B", "model": "itemknn", "share": 50}]
    arms = models.JSONField(_("分组"), default=list)
    is_running = models.BooleanField(_("进行中"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("A/B 实验")
        verbose_name_plural = _("A/B 实验")
        constraints = [
            # Every experiment splits the same personalised blocks: one runs at a time.
            models.UniqueConstraint(
                fields=["is_running"],
                condition=Q(is_running=True),
                name="recommender_one_running_experiment",
                violation_error_message=_("同一推荐位同时只能进行一个实验。"),
            ),
        ]

    def __str__(self):
        return self.name

    def validate_constraints(self, exclude=None):
        # The experiment service says which experiment is running (a better message than the
        # constraint's); the constraint stays the database's guarantee.
        super().validate_constraints(exclude={*(exclude or ()), "is_running"})
