"""The quality gate: a new run serves only when its test figure is plausible against the active run's."""

from __future__ import annotations

import logging

from django.conf import settings
from sklearn.base import clone

from recommender import engine
from recommender.algorithms.stats import paired_bootstrap_ci
from recommender.models import TrainingRun

logger = logging.getLogger(__name__)

# A precision above this, or more than GATE_MAX_JUMP times the active run's, is not a better model but
# a change in the data (an import of random or duplicated events once took 0.099 to 0.984).
GATE_MAX_PRECISION = 0.9
GATE_MAX_JUMP = 3.0
# Runs from before the gate recorded its protocol were evaluated on a per-user random split.
LEGACY_PROTOCOL = "random"


def _setting(name: str, default):
    return getattr(settings, f"RECOMMENDER_{name}", default)


def _reference(evaluation: engine.Evaluation, active: TrainingRun | None):
    """(label, per-user test precision) to pair the new serving model with, on the same split.

    The active run's serving model (its settings, refitted on this run's training split) when its
    artifact loads; otherwise popularity on the same split."""
    if active is not None and active.serving_model:
        try:
            stored = engine.artifact_load(active.pk)["models"][active.serving_model]
            per_user = evaluation.per_user_of(clone(stored))
            return f"active run #{active.pk} {active.serving_model} refitted on this split", per_user
        except Exception as exc:  # a missing or older artifact must not fail the run: compare with popularity
            logger.info(
                "gate: active run #%s model not re-evaluated (%s); comparing with popularity", active.pk, exc
            )
    per_user = evaluation.per_user.get("popularity")
    if per_user is None:
        try:
            per_user = evaluation.per_user_of(engine.model_build("popularity"))
        except ValueError:
            return None, None
    return "popularity on this split", per_user


def run_gate(*, evaluation: engine.Evaluation | None, serving: str) -> tuple[bool, str, dict]:
    """(passed, reason, figures) for the new run's serving model.

    Refused: no test figure; precision@k above GATE_MAX_PRECISION; against the active run's stored figure
    (same protocol only), a drop of more than RECOMMENDER_GATE_MAX_DROP or a jump above GATE_MAX_JUMP
    times; a paired bootstrap interval (per member, 1,000 resamples) of new − reference entirely below 0,
    the reference being the active run's model refitted on the same split (else popularity).
    """
    key = f"{engine.GATE_METRIC}@{engine.EVAL_K}"
    protocol = evaluation.protocol if evaluation is not None else engine.PROTOCOL
    metrics = evaluation.metrics if evaluation is not None else {}
    new = metrics.get(serving, {}).get(key)
    drop = settings.RECOMMENDER_GATE_MAX_DROP
    jump = _setting("GATE_MAX_JUMP", GATE_MAX_JUMP)
    ceiling = _setting("GATE_MAX_PRECISION", GATE_MAX_PRECISION)
    figures = {
        "protocol": protocol,
        "metric": key,
        "serving": serving,
        "new": new,
        "new_purchase": metrics.get(serving, {}).get(f"{engine.PURCHASE_METRIC}@{engine.EVAL_K}"),
        "max_drop": drop,
        "max_jump": jump,
        "max_precision": ceiling,
    }
    active = TrainingRun.objects.filter(is_active=True).first()
    old = None
    if active is not None:
        figures["active_run"] = active.pk
        same_protocol = (active.gate or {}).get("protocol", LEGACY_PROTOCOL) == protocol
        old = active.metrics.get(active.serving_model, {}).get(key) if same_protocol else None
        figures["old"] = old
        if not same_protocol:
            figures["old_note"] = "active run measured on another protocol: stored figure not compared"
    if new is not None and evaluation is not None and serving in evaluation.per_user:
        label, per_user = _reference(evaluation, active)
        if per_user is not None:
            ci = paired_bootstrap_ci(evaluation.per_user[serving], per_user)
            figures["reference"] = label
            figures["ci"] = {k: ci[k] for k in ("diff", "low", "high", "n_users", "n_resamples", "seed")}
        figures["versus_models"] = engine.versus_serving(evaluation, serving)

    passed, code, reason = _verdict(figures, new, old, active)
    figures.update(passed=passed, code=code)
    return passed, reason, figures


def _verdict(f: dict, new, old, active) -> tuple[bool, str, str]:
    key, serving = f["metric"], f["serving"]
    ci = f.get("ci")
    ci_text = (
        f"; {serving} − {f['reference']}: {ci['diff']:+.4f} [95% CI {ci['low']:+.4f}, {ci['high']:+.4f}]"
        if ci
        else ""
    )
    buy = f" (purchases only {f['new_purchase']:.4f})" if f.get("new_purchase") is not None else ""
    if new is None:
        if active is None:  # a first run on an empty shop serves popular products
            return True, "first", f"no active run to compare with; no {key} for {serving}"
        where = f"; active run #{active.pk} has {old:.4f}" if old is not None else ""
        return False, "no_figure", f"no {key} for {serving}{where}"
    if new > f["max_precision"]:
        return (
            False,
            "implausible",
            (
                f"{serving} {key}={new:.4f} is implausibly high (above {f['max_precision']:.2f}): the data changed, "
                f"not the model{ci_text}"
            ),
        )
    if old is not None:
        floor = old * (1 - f["max_drop"])
        if new < floor:
            return (
                False,
                "drop",
                (
                    f"{serving} {key}={new:.4f}{buy} is below {floor:.4f} (active run #{active.pk}: {old:.4f}, "
                    f"allowed drop {f['max_drop']:.0%}){ci_text}"
                ),
            )
        if old > 0 and new > f["max_jump"] * old:
            return (
                False,
                "implausible",
                (
                    f"{serving} {key}={new:.4f} is more than {f['max_jump']:g}x the active run #{active.pk}'s "
                    f"{old:.4f}: an implausible jump (the data changed, not the model){ci_text}"
                ),
            )
    if ci and ci["high"] < 0:
        return (
            False,
            "worse",
            (
                f"{serving} {key}={new:.4f} is worse than {f['reference']} with a 95% interval below 0{ci_text}"
            ),
        )
    if active is None:
        return True, "first", f"no active run to compare with; {serving} {key}={new:.4f}{buy}{ci_text}"
    versus = (
        f"vs active run #{active.pk} {old:.4f} (allowed drop {f['max_drop']:.0%})"
        if old is not None
        else f"active run #{active.pk} on another protocol, stored figure not compared"
    )
    return True, "passed", f"{serving} {key}={new:.4f}{buy} {versus}{ci_text}"
