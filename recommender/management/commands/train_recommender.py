"""Train the recommender now: progress bars, then a summary of sizes, timings, metrics and the gate."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommender import engine
from recommender.services import training
from recommender.tasks import shards_dispatch

STAGES = ["load", "evaluate", "fit", "similar", "popular", "persist", "score"]


class Command(BaseCommand):
    help = "Train, evaluate and (if it passes the quality gate) activate a new recommender run."

    def add_arguments(self, parser):
        parser.add_argument(
            "--sync",
            action="store_true",
            help="Run everything in this process (default: scoring fans out to Celery workers).",
        )
        parser.add_argument(
            "--models",
            nargs="+",
            choices=sorted(engine.MODEL_FACTORIES),
            help=f"Models to train (default: {' '.join(engine.DEFAULT_MODELS)}).",
        )
        parser.add_argument(
            "--if-stale",
            action="store_true",
            help="Only train when there is no active run or it is older than a day; runs "
            "in-process and only warns on failure (used by `make run` on first start).",
        )

    def handle(self, *args, sync=False, models=None, if_stale=False, verbosity=1, **options):
        if if_stale and not training.run_is_stale():
            if verbosity:
                self.stdout.write("Active recommender run is fresh; nothing to do.")
            return
        show_bar = verbosity > 0 and sys.stdout.isatty()
        bar = tqdm(total=len(STAGES), desc="training", unit="stage", disable=not show_bar, file=sys.stdout)

        def progress(stage):
            bar.set_postfix_str(stage)
            bar.update(1)

        try:
            run = training.training_run_execute(
                trigger="command",
                model_names=models,
                progress=progress,
                shard_runner=None if (sync or if_stale) else shards_dispatch,
            )
        except training.TrainingAlreadyRunning as exc:
            if if_stale:
                self.stderr.write(f"{exc.message} Skipped.")
                return
            raise CommandError(exc.message) from None
        except Exception as exc:
            if if_stale:  # the site must still start: pages fall back to popular products
                self.stderr.write(f"Training failed ({exc}); pages show popular products until the next run.")
                return
            raise
        finally:
            bar.close()
        if verbosity:
            self._summary(run)
        if run.status in (run.Status.FAILED, run.Status.REJECTED) and not if_stale:
            raise CommandError(f"run #{run.pk} {run.status}: {run.gate_reason or run.error}")

    def _summary(self, run):
        out = self.stdout
        out.write(
            f"Run #{run.pk}: {run.status}{' (active)' if run.is_active else ''}, serving model "
            f"{run.serving_model or '-'}, code {run.code_version}"
        )
        out.write("Sizes: " + ", ".join(f"{k}={v}" for k, v in run.data_sizes.items()))
        out.write(
            "Timings (s): "
            + ", ".join(f"{k}={v}" for k, v in run.timings.items())
            + f"; total {training.stage_total(run)}"
        )
        metric_names = [
            "precision@10",
            "precision_purchase@10",
            "recall@10",
            "ndcg@10",
            "map@10",
            "hit_rate@10",
            "coverage@10",
            "validation_ndcg@10",
        ]
        out.write(
            f"Test split: {run.gate.get('protocol', '-')}; MAP@10 = mean average precision over the top 10 "
            "(divided by min(relevant, 10)); the serving model is chosen on validation_ndcg@10"
        )
        out.write(f"{'model':<12}" + "".join(f"{m.replace('map@', 'MAP@'):>22}" for m in metric_names))
        for name, values in run.metrics.items():
            if "error" in values:
                out.write(f"{name:<12}  {values['error']}")
                continue
            out.write(
                f"{name:<12}"
                + "".join(f"{values[m]:>22.4f}" if m in values else f"{'-':>22}" for m in metric_names)
            )
        gate = {True: "passed", False: "rejected", None: "-"}[run.gate_passed]
        out.write(f"Gate: {gate}: {run.gate_reason}")
        versus = run.gate.get("versus_models") or {}
        if versus:
            out.write(
                f"{run.serving_model} − model, precision@10 on test [95% paired bootstrap CI]: "
                + "; ".join(
                    f"{name} {v['diff']:+.4f} [{v['low']:+.4f}, {v['high']:+.4f}]"
                    for name, v in versus.items()
                )
            )
        if run.status == run.Status.RUNNING:
            out.write(
                f"Scoring {run.shards_total} member shards on the Celery workers; "
                "the run activates when the last shard is written."
            )
