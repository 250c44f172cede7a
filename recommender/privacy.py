"""Who may be personalised: asks membership's selectors, with a fallback on the profile flag."""
from members.models import Profile


def personalization_allowed(user) -> bool:
    """False for guests and for members who turned personalised recommendations off."""
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        from members.selectors import personalization_allowed as members_personalization_allowed
    except ImportError:
        members_personalization_allowed = None
    if members_personalization_allowed is not None:
        return members_personalization_allowed(user)
    try:
        return user.profile.personalization_enabled
    except Profile.DoesNotExist:
        return True


def opted_out_member_ids():
    """Ids (a queryset or list) of members whose behaviour must not be used for training."""
    try:
        from members.selectors import members_opted_out_ids
    except ImportError:
        members_opted_out_ids = None
    if members_opted_out_ids is not None:
        return members_opted_out_ids()
    return Profile.objects.filter(personalization_enabled=False).values_list("user_id", flat=True)
