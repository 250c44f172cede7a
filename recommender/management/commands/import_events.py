"""Import behaviour history from another system (CSV), all or nothing, with a report of bad rows."""
from django.core.management.base import BaseCommand, CommandError

from recommender.services.importing import EventImportError, events_import


class Command(BaseCommand):
    help = ("Import events from a CSV with columns member (email or id), product (sku or id), kind, "
            "timestamp (ISO 8601) and optional value. Nothing is written if any row is bad.")

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            with open(file, encoding="utf-8-sig", newline="") as handle:
                count = events_import(handle=handle, source=file)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        except EventImportError as exc:
            for problem in exc.problems:
                self.stderr.write(f"row {problem.row}, column {problem.column}: {problem.reason}")
            raise CommandError(f"{len(exc.problems)} problem(s) in {file}; nothing was imported") from None
        self.stdout.write(self.style.SUCCESS(f"Imported {count} events from {file}."))
