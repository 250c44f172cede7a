"""Import behaviour history from another system (CSV), all or nothing, with a report of bad rows."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommender.services.importing import EventImportError, events_import


class Command(BaseCommand):
    help = (
        "Import events from a CSV (UTF-8, UTF-8 with BOM, or GBK as Excel writes it) with columns member "
        "(email in any case, or id), product (sku or id), kind, timestamp (ISO 8601) and optional value. "
        "Nothing is written if any row is bad; rows imported before are not imported again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, verbosity=1, **options):
        bar = tqdm(desc="checking rows", unit=" rows", disable=verbosity < 1 or not self.stdout.isatty())
        try:
            with open(file, "rb") as handle:
                result = events_import(handle=handle, source=file, progress=bar.update)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        except EventImportError as exc:
            for problem in exc.problems:
                self.stderr.write(f"row {problem.row}, column {problem.column}: {problem.reason}")
            raise CommandError(f"{len(exc.problems)} problem(s) in {file}; nothing was imported") from None
        finally:
            bar.close()
        if verbosity >= 1:
            message = f"Imported {result.imported} events from {file}."
            if result.already_there:
                message += f" {result.already_there} rows were imported before and were skipped."
            self.stdout.write(self.style.SUCCESS(message))
