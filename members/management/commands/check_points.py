"""Verify every member's cached points balances against the ledger and the FIFO lots."""

from django.core.management.base import BaseCommand, CommandError

from members.services.points import points_ledger_differences


class Command(BaseCommand):
    help = "Compare each points account with the sum of its ledger rows; non-zero exit on any difference."

    def handle(self, *args, **options):
        differences = points_ledger_differences()
        for user_id, what, cached, ledger in differences:
            self.stdout.write(f"member {user_id}: {what} cached={cached} ledger={ledger}")
        if differences:
            raise CommandError(f"{len(differences)} points difference(s) found")
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS("points balances match the ledger"))
