"""Members: accounts and profiles (points, tiers, coupons and favourites join them here)."""
from datetime import date

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberManager(UserManager):
    """Email is the login; the username is kept only because Django's admin expects one."""

    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email)
        username = username or email
        return super()._create_user(username, email, password, **extra_fields)

    def create_user(self, username=None, email=None, password=None, **extra_fields):
        return super().create_user(username or email, email, password, **extra_fields)

    def create_superuser(self, username=None, email=None, password=None, **extra_fields):
        return super().create_superuser(username or email, email, password, **extra_fields)


class User(AbstractUser):
    email = models.EmailField(_("邮箱"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = MemberManager()

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")

    def __str__(self):
        return self.email


class Profile(models.Model):
    class Gender(models.TextChoices):
        UNKNOWN = "", _("不透露")
        FEMALE = "f", _("女")
        MALE = "m", _("男")

    user = models.OneToOneField(User, related_name="profile", on_delete=models.CASCADE)
    display_name = models.CharField(_("昵称"), max_length=50, blank=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("生日"), null=True, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    avatar = models.ImageField(_("头像"), upload_to="avatars/", blank=True)
    personalization_enabled = models.BooleanField(
        _("个性化推荐"), default=True,
        help_text=_("关闭后只看到非个性化的推荐，你的行为也不再用于训练模型。"))

    class Meta:
        verbose_name = _("会员资料")
        verbose_name_plural = _("会员资料")

    def __str__(self):
        return self.display_name or str(self.user)

    @property
    def age(self):
        if not self.birth_date:
            return None
        today = date.today()
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday
