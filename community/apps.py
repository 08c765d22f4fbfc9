from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Forums, the help center and events (webinars)."""

    name = "community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .moderation import register_forum_posts

        register_forum_posts()
