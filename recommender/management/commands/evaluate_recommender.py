"""Offline evaluation of the recommendation models on CSV files (logic in recommender.algorithms.cli)."""

from django.core.management.base import BaseCommand, CommandError

from recommender.algorithms.cli import MODEL_NAMES, format_table, run_evaluation
from recommender.algorithms.io import DataFileError


class Command(BaseCommand):
    help = "Evaluate the recommendation models on an interactions CSV (and optional items CSV)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interactions", required=True, help="user_id,item_id[,rating][,timestamp][,basket_id]"
        )
        parser.add_argument("--items", help="item_id,title[,category][,brand][,description]")
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--test-size", type=float, default=0.25)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--split", choices=["random", "temporal"], default="random")
        parser.add_argument("--models", nargs="+", choices=MODEL_NAMES, help="default: all")
        parser.add_argument("--no-tune", action="store_true", help="Hybrid with fixed weights (faster)")
        parser.add_argument("--json", dest="json_path", help="also write the results as JSON here")

    def handle(self, *args, **opts):
        verbosity = opts["verbosity"]

        def log(line):
            if verbosity >= 1:
                self.stdout.write(line)

        try:
            table = run_evaluation(
                opts["interactions"],
                opts.get("items"),
                k=opts["k"],
                test_size=opts["test_size"],
                seed=opts["seed"],
                split=opts["split"],
                models=opts.get("models"),
                json_path=opts.get("json_path"),
                progress=verbosity >= 1 and self.stderr.isatty(),
                tune=not opts["no_tune"],
                log=log,
            )
        except (DataFileError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if verbosity >= 1:
            self.stdout.write(format_table(table, opts["k"]))
        if verbosity >= 2:
            self.stdout.write(table.to_string())
