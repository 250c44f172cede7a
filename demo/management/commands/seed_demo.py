"""seed_demo: fill the database with deterministic demo data (see demo.seeding) and print the logins."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from demo import seeding as demo


class Command(BaseCommand):
    help = "Seed demo catalogue, members, orders, reviews and behaviour events (deterministic per seed)."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(demo.SIZES), default="medium")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="skip seeding when products already exist (logins are still ensured)",
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete existing shop data and demo members first"
        )

    def handle(self, *args, size, seed, if_empty, reset, verbosity, **options):
        started = time.monotonic()
        if demo.demo_has_data() and not reset:
            if not if_empty:
                raise CommandError(
                    "The database already has products: use --if-empty to keep them "
                    "or --reset to replace them."
                )
            if verbosity:
                self.stdout.write("Products exist already: seeding skipped.")
        else:
            if reset:
                demo.demo_reset()
            progress = verbosity > 0 and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
            if verbosity:
                self.stdout.write(f"Seeding {size} demo data (seed {seed})…")
            demo.demo_seed(size=size, seed=seed, stdout=self.stdout, verbosity=verbosity, progress=progress)
            if verbosity:
                self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f} s."))
        logins = demo.demo_logins_ensure()
        if verbosity:
            self.stdout.write("Logins:")
            for (email, password), role in zip(logins, ("shopper", "staff")):
                self.stdout.write(f"  {role:8} {email} / {password}")
