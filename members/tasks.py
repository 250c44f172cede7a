"""Nightly membership tasks: thin entry points that call the services."""

from celery import shared_task

from members.services import coupons, points, tiers


@shared_task(soft_time_limit=1200, time_limit=1500)
def points_expire():
    return points.points_expire_due()


@shared_task(soft_time_limit=1200, time_limit=1500)
def points_release():
    return points.points_release_matured()


@shared_task(soft_time_limit=1800, time_limit=2100)
def tiers_recompute():
    return tiers.tiers_recompute_all()


@shared_task(soft_time_limit=1200, time_limit=1500)
def birthday_coupons():
    return coupons.coupons_birthday_issue()
