from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    """Two-way double-blind reviews and reputation (Job Success Score, badges)."""

    name = "reviews"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import moderation

        moderation.register()  # reviews in the moderation queue
