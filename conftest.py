"""Project-wide test setup: real services under CI, tasks in-process unless a test runs a worker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from core.testing import wait_for


def _on_postgres():
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_configure(config):
    if os.environ.get("CI") == "true":
        if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
            raise pytest.UsageError("CI=true needs DATABASE_URL pointing at PostgreSQL")
        if not os.environ.get("REDIS_URL"):
            raise pytest.UsageError("CI=true needs REDIS_URL pointing at Redis")


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI always does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def fresh_cache():
    """The test starts and ends with an empty cache: rate-limit counters and cached pages live there."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _tasks_in_process(request, settings):
    """Tasks run in-process (as without REDIS_URL) except in tests that start a real worker.

    Tests assert what a task does, not the queue; the worker has its own tests.
    """
    from config.celery import app

    if "celery_worker_process" in request.fixturenames:
        yield
        return
    # Read first: Celery's config reads through to Django's settings, which change next.
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, settings):
    """`celery -A config worker -P solo` in a subprocess against the TEST database and REDIS_URL.

    Needs PostgreSQL (the worker is another process and must see the test database) and Redis;
    the test using it is transactional so its rows are committed and visible to the worker.
    """
    from django.db import connection

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url or connection.vendor != "postgresql":
        pytest.skip("a real worker needs REDIS_URL and PostgreSQL")
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    artifacts = tmp_path / "worker-artifacts"
    settings.RECOMMENDER_ARTIFACT_DIR = artifacts
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "RECOMMENDER_ARTIFACT_DIR": str(artifacts),
        "CONN_MAX_AGE": "0",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "-c",
                "1",
                "-n",
                f"rectest-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "ready." in log_path.read_text() or process.poll() is not None, 60, interval=0.3)
        if "ready." not in log_path.read_text():
            if process.poll() is not None:
                pytest.fail("celery worker exited:\n" + log_path.read_text()[-3000:])
            pytest.fail("celery worker did not start:\n" + log_path.read_text()[-3000:])
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        sys.stdout.write(log_path.read_text()[-3000:])
