"""A/B experiments: the rules every way of creating one must pass (admin, API, commands), and saving one."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.locks import lock_rows
from recommender import engine
from recommender.models import Experiment
from recommender.serving import serving_state_forget

ARMS_EXAMPLE = '[{"name": "A", "model": "hybrid", "share": 50}, …]'


def experiment_arms_validate(arms) -> list:
    """The arms as given, or DomainError (field "arms"): two or more, each named once, a known model,
    a positive integer share."""
    if not isinstance(arms, list) or len(arms) < 2:
        raise DomainError(
            _("至少需要两个分组，例如 %(example)s。") % {"example": ARMS_EXAMPLE},
            code="experiment_arms",
            field="arms",
        )
    names = set()
    for arm in arms:
        if not isinstance(arm, dict) or not arm.get("name"):
            raise DomainError(_("每个分组需要 name、model 和 share。"), code="experiment_arms", field="arms")
        if arm.get("model") not in engine.MODEL_FACTORIES:
            raise DomainError(
                _("未知模型 %(model)s，可选：%(choices)s。")
                % {"model": arm.get("model"), "choices": ", ".join(engine.MODEL_FACTORIES)},
                code="experiment_arms",
                field="arms",
            )
        share = arm.get("share")
        if not isinstance(share, int) or isinstance(share, bool) or share <= 0:
            raise DomainError(
                _("分组 %(name)s 的 share 必须是正整数。") % {"name": arm["name"]},
                code="experiment_arms",
                field="arms",
            )
        if arm["name"] in names:
            raise DomainError(
                _("分组名 %(name)s 重复。") % {"name": arm["name"]}, code="experiment_arms", field="arms"
            )
        names.add(arm["name"])
    return arms


def experiment_running_check(*, experiment: Experiment, running=None) -> None:
    """At most one running experiment per block. Every experiment splits the personalised blocks (home,
    member centre, after order), so that is one running experiment at a time."""
    if not experiment.is_running:
        return
    others = running if running is not None else Experiment.objects.filter(is_running=True)
    other = next((e for e in others if e.pk != experiment.pk), None)
    if other is not None:
        raise DomainError(
            _("实验“%(name)s”正在进行：同一推荐位同时只能进行一个实验，请先停止它。") % {"name": other.name},
            code="experiment_running",
            field="is_running",
        )


def experiment_validate(*, experiment: Experiment) -> None:
    experiment_arms_validate(experiment.arms)
    experiment_running_check(experiment=experiment)


def experiment_save(*, experiment: Experiment) -> Experiment:
    """Create or change an experiment after checking its rules; pages see it within the request."""
    with transaction.atomic():
        experiment_arms_validate(experiment.arms)
        # Locked: two staff starting experiments at once cannot both pass the check.
        experiment_running_check(
            experiment=experiment, running=lock_rows(Experiment.objects.filter(is_running=True))
        )
        experiment.save()
        # Pages read the running experiment from a cache: drop it once the change is committed.
        transaction.on_commit(serving_state_forget)
    return experiment


def experiment_delete(*, experiment: Experiment) -> None:
    with transaction.atomic():
        experiment.delete()
        transaction.on_commit(serving_state_forget)
