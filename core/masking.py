"""Masking of personal data: the one set of rules for staff screens, exports and public reviewer names."""


def mask_phone(value: str) -> str:
    value = value or ""
    if len(value) <= 4:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}" if len(value) >= 8 else f"{value[:1]}***{value[-2:]}"


def mask_email(value: str) -> str:
    local, at, domain = (value or "").partition("@")
    if not at:
        return mask_text(value)
    return f"{local[:1]}***@{domain}"


def mask_text(value: str) -> str:
    value = str(value or "")
    return f"{value[:1]}***" if value else ""


MASKERS = {"phone": mask_phone, "email": mask_email, "text": mask_text}


def mask(value: str, kind: str) -> str:
    return MASKERS.get(kind, mask_text)(value or "")


def public_member_name(user) -> str:
    """How a member is named to other shoppers (reviews): their display name, else one character and
    stars; never any part of the e-mail's domain."""
    if user is None:
        return "***"
    profile = getattr(user, "profile", None)
    name = (getattr(profile, "display_name", "") or "").strip() if profile is not None else ""
    if name:
        return name
    local = (getattr(user, "email", "") or "").split("@")[0]
    return mask_text(local) or "***"
