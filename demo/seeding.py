"""Seeding the whole demo site: each app's steps in order (shop, then membership), reset and logins."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings

from members import demo as members_demo
from shop import demo as shop_demo
from shop.services.search_index import search_index_rebuild

SIZES = shop_demo.SIZES
DEMO_SHOPPER = shop_demo.DEMO_SHOPPER
DEMO_STAFF = ("admin@example.com", "admin12345")
# Membership's step reads the shop's orders and the demo shopper, so it runs after the shop's.
SEED_STEPS = [*shop_demo.SEED_STEPS, members_demo.step_membership]


def demo_has_data() -> bool:
    return shop_demo.demo_has_data()


def demo_reset():
    """Delete the demo data of every app and the generated members (keeps other accounts)."""
    with transaction.atomic():
        members_demo.membership_demo_reset()  # ledger rows and coupon redemptions protect their orders
        shop_demo.shop_demo_reset()


def demo_seed(*, size="medium", seed=42, stdout=None, verbosity=1, progress=False) -> shop_demo.SeedContext:
    """Run every seed step in one transaction; returns the context (counts and created objects)."""
    ctx = shop_demo.SeedContext(size=size, seed=seed, stdout=stdout, verbosity=verbosity, progress=progress)
    # Under DEBUG Django keeps the text of every query; for a million inserted rows that is slow
    # and large, so the SQL log is off while seeding.
    with override_settings(DEBUG=False), transaction.atomic():
        for step in SEED_STEPS:
            ctx.say(f"{step.__doc__.splitlines()[0] if step.__doc__ else step.__name__}")
            step(ctx)
        ctx.say("Search index")
        search_index_rebuild(progress=ctx.progress)  # products were bulk-created: no signals fired
    shop_demo.shop_caches_forget()
    return ctx


def demo_logins_ensure() -> list[tuple[str, str]]:
    """Make sure the demo shopper and the staff login exist with verified emails; return them."""
    from allauth.account.models import EmailAddress

    from members.roles import staff_roles_sync

    staff_roles_sync()  # the least-privilege staff groups (客服, 运营, 仓库, 分析) exist in every demo shop
    User = get_user_model()
    logins = [(DEMO_SHOPPER, False)]
    if settings.DEMO_STAFF_LOGIN:  # off under production settings: a published staff password is a way in
        logins.append((DEMO_STAFF, True))
    for (email, password), staff in logins:
        user = User.objects.filter(email=email).first() or User(email=email, username=email)
        user.set_password(password)
        user.is_staff = user.is_superuser = staff
        user.is_active = True
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    return [login for login, _staff in logins]
