"""Recommender test fixtures: artifacts in a temp dir, and a real Celery worker when Redis is set."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings


@pytest.fixture(autouse=True)
def _artifact_dir(settings, tmp_path):
    settings.RECOMMENDER_ARTIFACT_DIR = tmp_path / "recommender-artifacts"


@pytest.fixture(autouse=True)
def _clear_cache():
    # The refresh debounce and view counters live in the cache.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, settings):
    """`celery -A config worker` in a subprocess against the TEST database and REDIS_URL.

    Needs PostgreSQL (the worker is another process, so SQLite's in-memory test db is invisible)
    and a broker; the test using it is transactional so its rows are committed and visible.
    """
    from django.db import connection

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url or connection.vendor != "postgresql":
        pytest.skip("a real worker needs REDIS_URL and PostgreSQL")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    artifacts = tmp_path / "worker-artifacts"
    settings.RECOMMENDER_ARTIFACT_DIR = artifacts
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "DJANGO_SETTINGS_MODULE": "config.settings.test", "RECOMMENDER_ARTIFACT_DIR": str(artifacts),
           "CONN_MAX_AGE": "0"}
    queue = f"rectest-{os.getpid()}-{time.time_ns()}"
    log_path = tmp_path / "worker.log"
    root = Path(django_settings.BASE_DIR)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-c", "1",
             "-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    from config.celery import app

    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if process.poll() is not None:
                pytest.fail("celery worker exited:\n" + log_path.read_text()[-3000:])
            if "ready." in log_path.read_text():
                break
            time.sleep(0.3)
        else:
            pytest.fail("celery worker did not start:\n" + log_path.read_text()[-3000:])
        yield process
    finally:
        app.conf.task_default_queue = previous_queue
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        sys.stdout.write(log_path.read_text()[-2000:])
