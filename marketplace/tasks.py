from celery import shared_task


@shared_task(name="marketplace.health_ping")
def health_ping(token: str = "ping") -> dict[str, str]:  # noqa: S107 - an echo, not a secret
    """A trivial task proving that the broker and a worker are wired: echoes its token."""
    return {"status": "ok", "token": token}
