"""Validators for uploaded product images: a real JPEG, PNG or WebP of at most 5 MB."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

PRODUCT_IMAGE_MAX_BYTES = 5 * 1024 * 1024
PRODUCT_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}


def validate_product_image(file):
    size = getattr(file, "size", None)
    if size is not None and size > PRODUCT_IMAGE_MAX_BYTES:
        raise ValidationError(_("图片不能超过 5 MB。"), code="image_too_large")
    position = file.tell() if hasattr(file, "tell") else None
    try:
        file.seek(0)
        with Image.open(file) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(_("请上传 JPEG、PNG 或 WebP 格式的图片。"), code="invalid_image") from None
    finally:
        if position is not None:
            file.seek(position)
    if image_format not in PRODUCT_IMAGE_FORMATS:
        raise ValidationError(_("请上传 JPEG、PNG 或 WebP 格式的图片。"), code="invalid_image")
