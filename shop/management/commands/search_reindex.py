"""search_reindex: rebuild the product search index (after a bulk import, or a change made by SQL)."""

import sys
import time

from django.core.management.base import BaseCommand

from shop.services.search_index import search_index_rebuild


class Command(BaseCommand):
    help = "Rebuild the product search index (lexemes and, on PostgreSQL, the weighted tsvector)."

    def handle(self, *args, verbosity, **options):
        started = time.monotonic()
        # The bar at verbosity 2 or more, or at 1 on a terminal; nothing at all at 0.
        progress = verbosity >= 2 or (verbosity == 1 and sys.stderr.isatty())
        written = search_index_rebuild(progress=progress, stdout=self.stderr._out if progress else None)
        if verbosity >= 1:
            self.stdout.write(f"search index: {written} products in {time.monotonic() - started:.1f}s")
