"""URL slugs from names, Chinese included: pinyin (pypinyin) so a Chinese name never yields an empty slug."""

from django.utils.text import slugify
from pypinyin import lazy_pinyin


def slug_base(name: str, *, max_length: int) -> str:
    """Latin letters and digits kept, Chinese characters spelt in pinyin, joined by hyphens."""
    # lazy_pinyin passes non-Chinese runs through unchanged, so "小米 Air 3" → ["xiao", "mi", " Air 3"].
    words = lazy_pinyin(name or "", errors="default")
    base = slugify("-".join(word.strip() for word in words if word.strip()))
    return base[:max_length].strip("-")


def slug_unique(model, name: str, *, field: str = "slug", exclude_pk=None) -> str:
    """A slug for `name` not yet used by another row of `model` (suffixed -2, -3 … when taken)."""
    max_length = model._meta.get_field(field).max_length
    base = slug_base(name, max_length=max_length - 6) or model._meta.model_name
    others = model._default_manager.exclude(pk=exclude_pk) if exclude_pk else model._default_manager.all()
    candidate, n = base, 1
    while others.filter(**{field: candidate}).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate
