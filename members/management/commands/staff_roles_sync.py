"""Create or update the staff role groups (客服, 运营, 仓库, 分析) with exactly their permissions."""

from django.core.management.base import BaseCommand

from members.roles import staff_roles_sync


class Command(BaseCommand):
    help = "Create or update the staff role groups so each holds exactly its permissions (idempotent)."

    def handle(self, *args, **options):
        summary = staff_roles_sync()
        if options["verbosity"] >= 1:
            for name, count in summary.items():
                self.stdout.write(f"{name}: {count} permissions")
