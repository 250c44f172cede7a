"""The run lock's lease: short, and renewed by a heartbeat while the run works, so a dead worker frees it soon.

The unique "running" row is the lock. Its lease is a few minutes long (RECOMMENDER_LOCK_TTL); a
thread renews it while a stage works, and each stage boundary renews it too. A killed worker stops
renewing, so the next run may take over minutes later, not half an hour later. A renewal that finds
the run no longer running (staff cancelled it) tells the run to stop.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from recommender.models import TrainingRun

logger = logging.getLogger(__name__)


class RunStopped(Exception):
    """The run is no longer running (cancelled by staff, or failed elsewhere): stop working on it."""

    def __init__(self, run_id):
        super().__init__(f"training run {run_id} is no longer running")
        self.run_id = run_id


def lease_seconds() -> int:
    return int(settings.RECOMMENDER_LOCK_TTL)


def lease_until(seconds: int | None = None):
    return timezone.now() + timedelta(seconds=lease_seconds() if seconds is None else seconds)


def lease_renew(run_id: int, *, seconds: int | None = None) -> bool:
    """Push the lease forward; False when the run is not running any more (nothing renewed)."""
    return bool(
        TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(
            lease_expires_at=lease_until(seconds)
        )
    )


def lease_renew_or_stop(run_id: int) -> None:
    if not lease_renew(run_id):
        raise RunStopped(run_id)


@contextmanager
def lease_heartbeat(run_id: int, *, interval: float | None = None):
    """Renew the run's lease every `interval` seconds (a quarter of the lease) while the block runs.

    Yields an Event that is set once a renewal found the run stopped; the run checks it at its
    next stage boundary (a thread cannot interrupt the work itself).
    """
    interval = lease_seconds() / 4 if interval is None else interval
    done, stopped = threading.Event(), threading.Event()

    def beat():
        try:
            while not done.wait(interval):
                try:
                    if not lease_renew(run_id):
                        stopped.set()
                        return
                except Exception:  # a database hiccup: the next beat tries again
                    logger.warning("training run %s: lease not renewed", run_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"training-run-{run_id}-lease", daemon=True)
    thread.start()
    try:
        yield stopped
    finally:
        done.set()
        thread.join()
