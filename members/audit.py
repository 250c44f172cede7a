"""The staff audit trail (django-auditlog): which models it follows, what it keeps, and bulk-change logging.

Imported by the settings (AUDITLOG_INCLUDE_TRACKING_MODELS), so the module level imports no Django model.
"""

# Personal data is masked in the trail itself: an entry is read by staff who may not see it, and a value
# once written into a log cannot be un-shown (PIPL). Bookkeeping fields that change on their own are left out.
PERSONAL = [
    "email",
    "username",
    "first_name",
    "last_name",
    "recipient_name",
    "phone",
    "district",
    "address_line",
    "postcode",
]

AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {
        "model": "shop.product",
        "exclude_fields": ["sales_count", "rating_avg", "rating_count", "updated_at"],
        "m2m_fields": ["tags"],
    },
    {"model": "shop.category"},
    {
        "model": "shop.order",
        "mask_fields": [f for f in PERSONAL if f != "email"],
        "exclude_fields": ["idempotency_key", "updated_at"],
    },
    {"model": "shop.review"},
    {
        "model": "members.coupontemplate",
        "exclude_fields": ["issued_count", "redeemed_count"],
        "m2m_fields": ["categories", "products"],
    },
    {"model": "members.earningrules", "exclude_fields": ["updated_at"]},
    {"model": "members.tier"},
    {
        "model": "members.user",
        "exclude_fields": ["password", "last_login"],
        "mask_fields": ["email", "username", "first_name", "last_name"],
        "m2m_fields": ["groups", "user_permissions"],
    },
    {"model": "recommender.experiment"},
    # A run's lease and shard counters change every few seconds while it works: only what staff decide.
    {"model": "recommender.trainingrun", "include_fields": ["status", "is_active", "error"]},
)


def audit_mask(value) -> str:
    """What the trail stores for a personal field: that it changed, never the value."""
    return "***" if value not in (None, "") else ""


def audit_bulk_update(instances, changes_of, *, actor=None):
    """Log a change made by queryset.update() (which sends no signals): one entry per row.

    `changes_of(instance)` gives {"field": [old, new]} for that row; rows without a change are skipped.
    """
    from auditlog.models import LogEntry  # the middleware's actor is filled in when `actor` is None

    entries = []
    for instance in instances:
        changes = {
            name: [str(old), str(new)] for name, (old, new) in changes_of(instance).items() if old != new
        }
        if changes:
            extra = {"actor": actor} if actor is not None else {}
            entries.append(
                LogEntry.objects.log_create(instance, action=LogEntry.Action.UPDATE, changes=changes, **extra)
            )
    return entries


def audit_receivers_connect():
    """Called from MembersConfig.ready(): keep members' e-mails and deleted accounts out of the trail."""
    from auditlog.signals import post_log

    post_log.connect(_entry_tidy, dispatch_uid="members.audit.entry_tidy")


def _entry_tidy(sender, instance, action, log_entry=None, **kwargs):
    """auditlog copies the actor's e-mail into each entry: for a member (not staff) that is personal data
    kept past their account; and a member deleting their own account would leave an entry pointing at it."""
    if log_entry is None or log_entry.actor_id is None:
        return
    from django.contrib.auth import get_user_model

    fields = {}
    if isinstance(instance, get_user_model()) and instance.pk == log_entry.actor_id and action == 2:
        fields = {"actor": None, "actor_email": None}  # 2: LogEntry.Action.DELETE
    elif log_entry.actor_email and not getattr(log_entry.actor, "is_staff", False):
        fields = {"actor_email": None}
    if fields:
        type(log_entry).objects.filter(pk=log_entry.pk).update(**fields)
