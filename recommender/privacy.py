"""Who may be personalised: membership's selectors decide; guests never get a stored personal list."""

from members.selectors import members_opted_out_ids
from members.selectors import personalization_allowed as members_personalization_allowed


def personalization_allowed(user) -> bool:
    """False for guests and for members who turned personalised recommendations off."""
    if not getattr(user, "is_authenticated", False):
        return False
    return members_personalization_allowed(user)


def opted_out_member_ids():
    """Ids of members whose behaviour must not be used for training."""
    return members_opted_out_ids()
