"""The recommender listens to the shop: a member's new behaviour schedules a refresh of their list."""

from django.dispatch import receiver

from recommender import tasks
from shop import signals


@receiver(signals.behaviour_recorded, dispatch_uid="recommender.behaviour_recorded")
def on_behaviour_recorded(sender, event, **kwargs):
    # refresh_schedule debounces now and queues the task on commit; it never raises.
    if event.user_id and event.product_id:
        tasks.refresh_schedule(user_id=event.user_id, kind=event.kind)
