"""{% shop_name %}: the shop's name (settings.SHOP_NAME) in the current language, for e-mail templates."""

from django import template
from django.conf import settings
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def shop_name():
    return gettext(settings.SHOP_NAME)
