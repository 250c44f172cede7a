"""Print a member's recommendations with scores and reasons, as the home page would serve them."""

from django.core.management.base import BaseCommand, CommandError

from members.models import User
from recommender.selectors import member_recommendation_explain


class Command(BaseCommand):
    help = "Show a member's recommendation list (MEMBER is an email or an id)."

    def add_arguments(self, parser):
        parser.add_argument("member")
        parser.add_argument("--n", type=int, default=10)

    def handle(self, *args, member, n, **options):
        if n < 1:
            raise CommandError("--n must be at least 1")
        lookup = {"pk": int(member)} if member.isdigit() else {"email__iexact": member}
        user = User.objects.filter(**lookup).first()
        if user is None:
            raise CommandError(f"no member {member!r}")
        why = member_recommendation_explain(user=user, n=n)
        run = why["run"]
        self.stdout.write(
            f"Member #{user.pk} {user.email}; active run: "
            f"{f'#{run.pk} ({run.serving_model})' if run else 'none'}; personalisation "
            f"{'on' if why['allowed'] else 'off'}; arm {why['arm'].name if why['arm'] else '-'}"
        )
        stored = {(r.product_id, r.model): r for r in why["rows"]}
        self.stdout.write(f"{'#':>3}  {'product':<36}{'model':<14}{'score':>9}  reason")
        for position, item in enumerate(why["served"], start=1):
            row = stored.get((item.product.pk, item.model))
            score = f"{row.score:9.4f}" if row else f"{'-':>9}"
            self.stdout.write(
                f"{position:>3}  {item.product.name[:34]:<36}{item.model:<14}{score}  {item.reason}"
            )
        if not why["served"]:
            self.stdout.write("(nothing to recommend: no active run or no products in stock)")
