"""Tests. PostgreSQL and Redis when DATABASE_URL/REDIS_URL are set (CI), SQLite otherwise."""

from .base import *  # noqa: F403
from .base import CHANNEL_LAYERS, REDIS_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = env.path("TEST_MEDIA_ROOT", default="/tmp/marketplace-test-media")  # noqa: S108 - tests only
CELERY_TASK_ALWAYS_EAGER = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ACCOUNT_RATE_LIMITS = {"signup": "1000/m/ip", "login_failed": "1000/m/ip"}
# Every test client comes from 127.0.0.1 and the cache outlives a test: the rate-limit tests
# (tests/marketplace/test_ratelimits.py) switch it on with their own small limits.
RATE_LIMIT_ENABLED = False
# Factories write jobs without the search generation bump; tests/jobs/test_search_index.py
# switches the index on around the services it exercises.
JOBS_SEARCH_INDEX = False
WHITENOISE_USE_FINDERS = True
SERVE_MEDIA = True
PRIVATE_MEDIA_ROOT = env.path("TEST_PRIVATE_MEDIA_ROOT", default="/tmp/marketplace-test-private-media")  # noqa: S108
WHITENOISE_AUTOREFRESH = True
if REDIS_URL:
    # a prefix per run keeps parallel test processes from hearing each other
    import os

    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test{os.getpid()}"  # type: ignore[index]
