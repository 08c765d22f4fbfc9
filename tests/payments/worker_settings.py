"""Settings of the real Celery workers that ``test_worker_kill.py`` starts: the test
settings (database, gateway and broker come from the environment the test passes), tasks
sent for real, and a short Redis visibility timeout so that a message whose worker was
killed before acknowledging it (``task_acks_late``) is delivered again within seconds
instead of the default hour; the test's private queue (``TEST_WORKER_QUEUE``) for what
the worker sends itself."""

import os

from marketplace.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
# What the worker sends (e.g. notification e-mails) goes to its own queue too.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("TEST_WORKER_QUEUE", "celery")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
