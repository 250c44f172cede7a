"""Staff roles: the seeded groups with least privilege, kept in step by `staff_roles_sync`."""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext_lazy as _

# Permissions the models' Meta does not declare (shop's Order is below members; declared here so the shop
# needs no migration for a role): shipping is the warehouse's one change to an order.
EXTRA_PERMISSIONS = {
    "shop.ship_order": _("订单发货"),
}

CUSTOMER_SERVICE = "客服"
OPERATIONS = "运营"
WAREHOUSE = "仓库"
ANALYST = "分析"


def _crud(app_model, *actions):
    app, model = app_model.split(".")
    return [f"{app}.{action}_{model}" for action in actions]


# Each role lists every permission it holds: a sync removes anything else from the group. No role holds
# members.view_personal_data or members.manage_staff: those are granted to a person, on purpose.
ROLES = {
    CUSTOMER_SERVICE: [  # orders and returns (refunds), members masked
        *_crud("shop.order", "view", "change"),
        "shop.view_orderline",
        "shop.view_orderstatuschange",
        "shop.view_payment",
        "shop.view_product",
        "shop.view_review",
        "members.view_user",
        "members.view_profile",
        "members.view_address",
        "members.view_pointsaccount",
        "members.view_pointsentry",
        "members.view_coupon",
        "members.view_couponredemption",
    ],
    OPERATIONS: [  # catalogue, coupons and campaigns, moderation, loyalty settings
        *_crud("shop.product", "view", "add", "change"),
        *_crud("shop.productimage", "view", "add", "change", "delete"),
        *_crud("shop.category", "view", "add", "change"),
        *_crud("shop.brand", "view", "add", "change"),
        *_crud("shop.tag", "view", "add", "change", "delete"),
        *_crud("shop.review", "view", "change"),
        *_crud("members.coupontemplate", "view", "add", "change"),
        *_crud("members.coupon", "view", "add"),
        "members.view_couponredemption",
        *_crud("members.tier", "view", "change"),
        *_crud("members.earningrules", "view", "change"),
        *_crud("recommender.experiment", "view", "add", "change"),
    ],
    WAREHOUSE: [  # orders: see them and ship them, nothing else
        "shop.view_order",
        "shop.ship_order",
        "shop.view_orderline",
        "shop.view_orderstatuschange",
    ],
    ANALYST: [  # the recommender, read-only
        "recommender.view_trainingrun",
        "recommender.view_experiment",
        "recommender.view_memberrecommendation",
        "recommender.view_productsimilarity",
        "recommender.view_boughttogetherrule",
        "recommender.view_popularproduct",
        "recommender.view_membercategoryprediction",
    ],
}


def _permission(label: str) -> Permission:
    app_label, codename = label.split(".")
    if label in EXTRA_PERMISSIONS:
        model = codename.split("_", 1)[1]
        content_type = ContentType.objects.get_by_natural_key(app_label, model)
        permission, _created = Permission.objects.get_or_create(
            content_type=content_type,
            codename=codename,
            defaults={"name": str(EXTRA_PERMISSIONS[label])[:255]},
        )
        return permission
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def staff_roles_sync() -> dict[str, int]:
    """Create or update every role's group so it holds exactly its permissions; idempotent.

    Returns {group name: permission count}. Members of the groups are left as they are.
    """
    summary = {}
    with transaction.atomic():
        for name, labels in ROLES.items():
            group, _created = Group.objects.get_or_create(name=name)
            group.permissions.set([_permission(label) for label in labels])
            summary[name] = len(labels)
    return summary


def staff_roles_overview():
    """Who has what, for the superusers' page: each group's permissions and staff, then direct grants."""
    from members.models import User

    groups = Group.objects.prefetch_related("permissions__content_type").order_by("name")
    staff = (
        User.objects.filter(is_staff=True, is_active=True)
        .prefetch_related("groups", "user_permissions__content_type")
        .order_by("pk")
    )
    members_of = {}
    for user in staff:
        for group in user.groups.all():
            members_of.setdefault(group.pk, []).append(user)
    return {
        "groups": [
            {
                "group": group,
                "permissions": sorted(group.permissions.all(), key=_permission_order),
                "staff": members_of.get(group.pk, []),
                "is_role": group.name in ROLES,
            }
            for group in groups
        ],
        "staff": [
            {
                "user": user,
                "groups": list(user.groups.all()),
                "direct": sorted(user.user_permissions.all(), key=_permission_order),
            }
            for user in staff
        ],
    }


def _permission_order(permission):
    return permission.content_type.app_label, permission.content_type.model, permission.codename
