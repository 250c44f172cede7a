"""Daily check-in (签到): once per Shanghai calendar day, streak bonuses, make-up days paid in points."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from members.models import Checkin, CheckinRules, PointsEntry
from members.services import points as points_services

SHANGHAI = ZoneInfo("Asia/Shanghai")
Reason = PointsEntry.Reason


def checkin_today(*, now=None) -> date:
    """Today's date in Asia/Shanghai, whatever the server's time zone (a day turns at 00:00 Beijing time)."""
    return (now or timezone.now()).astimezone(SHANGHAI).date()


def _streak_ending(*, user, day: date) -> int:
    """How many days in a row end at `day`, counting `day` itself (already written or about to be)."""
    dates = set(
        Checkin.objects.filter(user=user, date__lt=day, date__gte=day - timedelta(days=400)).values_list(
            "date", flat=True
        )
    )
    streak, cursor = 1, day - timedelta(days=1)
    while cursor in dates:
        streak += 1
        cursor -= timedelta(days=1)
    return streak


def _insert(*, user, day, streak, points, is_makeup, now) -> Checkin:
    try:
        with transaction.atomic():  # a savepoint: the unique (member, date) constraint is the last word
            return Checkin.objects.create(
                user=user, date=day, streak=streak, points=points, is_makeup=is_makeup, created_at=now
            )
    except IntegrityError:
        raise DomainError(_("今天已经签到过了，明天再来吧。"), code="checkin_done") from None


def checkin_do(*, user, now=None) -> Checkin:
    """Check `user` in for today; a second tap (or device) gets a clear refusal, never a second reward.

    The member's points account is locked first, so two check-ins of one member queue; the unique
    (member, date) constraint holds even for a path that forgets the lock.
    """
    now = now or timezone.now()
    day = checkin_today(now=now)
    rules = CheckinRules.current()
    with transaction.atomic():
        points_services.points_account_lock(user=user)
        if Checkin.objects.filter(user=user, date=day).exists():
            raise DomainError(_("今天已经签到过了，明天再来吧。"), code="checkin_done")
        streak = _streak_ending(user=user, day=day)
        bonus = rules.bonuses.get(streak, 0)
        points = rules.daily_points + bonus
        checkin = _insert(user=user, day=day, streak=streak, points=points, is_makeup=False, now=now)
        if points:
            note = (
                _("连续签到第 %(n)s 天，额外奖励 %(bonus)s 分") % {"n": streak, "bonus": bonus}
                if bonus
                else _("每日签到")
            )
            points_services.points_entry_write(
                user=user,
                reason=Reason.CHECKIN,
                available_delta=points,
                note=note,
                idempotency_key=f"checkin:{user.pk}:{day.isoformat()}",
            )
        return checkin


def checkin_makeup(*, user, day: date, now=None) -> Checkin:
    """Make up a missed day of this month for points: it counts for the streak but earns nothing."""
    now = now or timezone.now()
    today = checkin_today(now=now)
    rules = CheckinRules.current()
    if not rules.makeup_enabled:
        raise DomainError(_("当前不支持补签。"), code="makeup_disabled")
    if not (day < today and (day.year, day.month) == (today.year, today.month)):
        raise DomainError(_("只能补签本月今天以前的日期。"), code="makeup_bad_date")
    with transaction.atomic():
        account = points_services.points_account_lock(user=user)
        if Checkin.objects.filter(user=user, date=day).exists():
            raise DomainError(_("这一天已经签到过了。"), code="checkin_done")
        used = Checkin.objects.filter(
            user=user, is_makeup=True, date__year=today.year, date__month=today.month
        ).count()
        if used >= rules.makeup_per_month:
            raise DomainError(
                _("本月补签次数已用完（每月 %(n)s 次）。") % {"n": rules.makeup_per_month},
                code="makeup_limit",
            )
        if account.available < rules.makeup_cost:
            raise DomainError(
                _("积分不足：补签需要 %(cost)s 积分，你有 %(have)s 可用积分。")
                % {"cost": rules.makeup_cost, "have": account.available},
                code="points_insufficient",
            )
        checkin = _insert(
            user=user, day=day, streak=_streak_ending(user=user, day=day), points=0, is_makeup=True, now=now
        )
        points_services.points_entry_write(
            user=user,
            reason=Reason.CHECKIN_MAKEUP,
            available_delta=-rules.makeup_cost,
            note=_("补签 %(day)s") % {"day": day.isoformat()},
            idempotency_key=f"makeup:{user.pk}:{day.isoformat()}",
        )
        return checkin


@dataclass
class CalendarDay:
    day: date
    checked: bool = False
    is_makeup: bool = False
    is_today: bool = False
    can_makeup: bool = False
    in_month: bool = True


@dataclass
class CheckinStatus:
    today: date
    checked_today: bool
    streak: int  # the run that ends today (or yesterday, if today is still open)
    next_bonus_day: int | None
    next_bonus_points: int
    weeks: list  # the month's calendar: weeks of CalendarDay (None outside the month)
    makeups_left: int
    makeup_cost: int
    daily_points: int


def checkin_status(*, user, now=None) -> CheckinStatus:
    """What the check-in page shows: today's state, the streak, the month's calendar, make-ups left."""
    today = checkin_today(now=now)
    rules = CheckinRules.current()
    first = today.replace(day=1)
    rows = {
        c.date: c
        for c in Checkin.objects.filter(user=user, date__gte=first - timedelta(days=1), date__lte=today)
    }
    checked_today = today in rows
    anchor = today if checked_today else today - timedelta(days=1)
    streak = 0
    if anchor in rows:
        streak = _streak_ending(user=user, day=anchor)
    used = sum(1 for c in rows.values() if c.is_makeup and c.date >= first)
    makeups_left = max(rules.makeup_per_month - used, 0) if rules.makeup_enabled else 0
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(today.year, today.month):
        days = []
        for day in week:
            if day.month != today.month:
                days.append(None)
                continue
            row = rows.get(day)
            days.append(
                CalendarDay(
                    day=day,
                    checked=row is not None,
                    is_makeup=bool(row and row.is_makeup),
                    is_today=day == today,
                    can_makeup=row is None and day < today and makeups_left > 0,
                )
            )
        weeks.append(days)
    # The next check-in (today's, or tomorrow's once today is done) is day streak + 1 of the run.
    later = sorted(d for d in rules.bonuses if d >= streak + 1)
    next_day = later[0] if later else None
    return CheckinStatus(
        today=today,
        checked_today=checked_today,
        streak=streak,
        next_bonus_day=next_day,
        next_bonus_points=rules.bonuses.get(next_day, 0) if next_day else 0,
        weeks=weeks,
        makeups_left=makeups_left,
        makeup_cost=rules.makeup_cost,
        daily_points=rules.daily_points,
    )
