from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    """Project package: cross-app helpers (errors, money, health checks, progress bars)."""

    name = "marketplace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # connects the security log's receivers (sign-ins, failures, password changes)
        from . import security  # noqa: F401
