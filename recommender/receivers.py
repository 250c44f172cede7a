"""The recommender listens to the shop: a shopper's new behaviour refreshes their list."""

from django.dispatch import receiver

from recommender import tasks
from recommender.serving import guest_blocks_forget
from shop import signals


@receiver(signals.behaviour_recorded, dispatch_uid="recommender.behaviour_recorded")
def on_behaviour_recorded(sender, event, **kwargs):
    if not event.product_id:
        return
    if event.user_id:
        # refresh_schedule debounces now and queues the task on commit; it never raises.
        tasks.refresh_schedule(user_id=event.user_id, kind=event.kind)
    elif event.session_key and event.kind != event.Kind.REC_CLICK:
        # A guest's list is folded in when read (cached per history version): a new version is enough.
        guest_blocks_forget(event.session_key)
