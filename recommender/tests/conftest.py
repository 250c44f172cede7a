"""Recommender test fixtures: artifacts in a temp dir, an empty cache per test."""

import pytest


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


@pytest.fixture(autouse=True)
def _forget_loaded_models():
    # Loaded models are cached per process by run id, and test databases reuse run ids.
    from recommender.serving import fitted_models_forget

    fitted_models_forget()
    yield
    fitted_models_forget()
