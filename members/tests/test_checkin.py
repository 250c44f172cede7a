"""Daily check-in: one a Shanghai day, streak bonuses, the month's calendar, make-ups paid in points."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import DomainError
from members.models import Checkin, CheckinRules, PointsAccount, PointsEntry
from members.services import checkin as checkin_services
from members.services import points as points_services
from members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(monkeypatch):
    """Move timezone.now: clock.set(datetime) and clock.tomorrow()."""

    class Clock:
        now = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)

        def set(self, when):
            self.now = when

        def tomorrow(self):
            self.now += timedelta(days=1)

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def available(user):
    return PointsAccount.objects.get(user=user).available


def test_seven_days_in_a_row_earn_the_day_seven_bonus(clock):
    CheckinRules.objects.update_or_create(pk=1, defaults={"daily_points": 5, "streak_bonuses": "7:50"})
    user = UserFactory()
    for day in range(1, 8):
        checkin = checkin_services.checkin_do(user=user)
        assert checkin.streak == day
        if day < 7:
            clock.tomorrow()
    assert checkin.points == 55
    assert available(user) == 6 * 5 + 55
    entries = PointsEntry.objects.filter(user=user, reason=PointsEntry.Reason.CHECKIN)
    assert entries.count() == 7 and "第 7 天" in entries.first().note
    assert points_services.points_ledger_differences() == []


def test_second_tap_the_same_day_is_refused_without_points(clock):
    user = UserFactory()
    checkin_services.checkin_do(user=user)
    with pytest.raises(DomainError, match="今天已经签到"):
        checkin_services.checkin_do(user=user)
    assert Checkin.objects.filter(user=user).count() == 1
    assert PointsEntry.objects.filter(user=user).count() == 1


def test_the_day_turns_at_midnight_beijing_time_not_utc(clock):
    user = UserFactory()
    clock.set(datetime(2026, 3, 1, 15, 30, tzinfo=ZoneInfo("UTC")))  # 23:30 in Shanghai
    assert checkin_services.checkin_do(user=user).date == date(2026, 3, 1)
    clock.set(datetime(2026, 3, 1, 16, 30, tzinfo=ZoneInfo("UTC")))  # 00:30 the next day in Shanghai
    second = checkin_services.checkin_do(user=user)
    assert second.date == date(2026, 3, 2) and second.streak == 2


def test_a_missed_day_restarts_the_streak(clock):
    user = UserFactory()
    checkin_services.checkin_do(user=user)
    clock.tomorrow()
    clock.tomorrow()
    assert checkin_services.checkin_do(user=user).streak == 1


def test_make_up_costs_points_keeps_the_streak_and_is_limited(clock):
    CheckinRules.objects.update_or_create(
        pk=1, defaults={"makeup_cost": 20, "makeup_per_month": 1, "streak_bonuses": ""}
    )
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=100, staff=None, note="测试")
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    checkin_services.checkin_do(user=user)  # the 10th
    clock.tomorrow()
    clock.tomorrow()  # the 12th: the 11th was missed
    made_up = checkin_services.checkin_makeup(user=user, day=date(2026, 3, 11))
    assert made_up.is_makeup and made_up.points == 0
    assert checkin_services.checkin_do(user=user).streak == 3
    assert available(user) == 100 - 20 + 5 + 5
    assert PointsEntry.objects.get(user=user, reason=PointsEntry.Reason.CHECKIN_MAKEUP).available_delta == -20
    with pytest.raises(DomainError, match="补签次数已用完"):
        checkin_services.checkin_makeup(user=user, day=date(2026, 3, 9))
    with pytest.raises(DomainError, match="只能补签本月"):
        checkin_services.checkin_makeup(user=user, day=date(2026, 2, 28))
    assert points_services.points_ledger_differences() == []


def test_make_up_with_too_few_points_is_refused_and_writes_nothing(clock):
    user = UserFactory()
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(DomainError, match="积分不足"):
        checkin_services.checkin_makeup(user=user, day=date(2026, 3, 9))
    assert not Checkin.objects.filter(user=user).exists()


def test_calendar_shows_the_month_and_the_next_bonus(clock):
    CheckinRules.objects.update_or_create(pk=1, defaults={"streak_bonuses": "3:10,7:50"})
    user = UserFactory()
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    checkin_services.checkin_do(user=user)
    status = checkin_services.checkin_status(user=user)
    days = [d for week in status.weeks for d in week if d]
    assert len(days) == 31 and status.checked_today and status.streak == 1
    assert [d.day.day for d in days if d.checked] == [10]
    assert (status.next_bonus_day, status.next_bonus_points) == (3, 10)


def test_rules_refuse_a_bad_bonus_format():
    rules = CheckinRules(streak_bonuses="seven:50")
    with pytest.raises(ValidationError) as error:
        rules.full_clean()
    assert "streak_bonuses" in error.value.message_dict
