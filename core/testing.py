"""Test helpers every app's tests share: start jobs together in threads, wait for something to happen."""

import threading
import time

from django.db import connections


def run_concurrently(*jobs, catch=(Exception,), timeout=60):
    """Run each job in its own thread, all released at once by a barrier; return their outcomes in order.

    A job's outcome is what it returned, or the exception it raised if that is one of `catch`; any other
    exception is raised here once every thread has finished. Each thread closes its database connections
    (Django opens one per thread; left open, they keep the test database from being dropped).
    """
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)
    uncaught = []

    def run(index, job):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = job()
        except catch as error:
            outcomes[index] = error
        except BaseException as error:  # re-raised in the caller's thread below
            uncaught.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if any(thread.is_alive() for thread in threads):
        raise AssertionError(f"a concurrent job still runs after {timeout}s (a deadlock?)")
    if uncaught:
        raise uncaught[0]
    return outcomes


def wait_for(predicate, timeout, interval=0.1):
    """Call `predicate` until it returns something true or `timeout` seconds pass; say whether it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
