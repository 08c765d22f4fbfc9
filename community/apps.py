from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Forums, the help center and events (webinars)."""

    name = "community"
    default_auto_field = "django.db.models.BigAutoField"
