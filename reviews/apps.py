from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    """Two-way double-blind reviews and reputation (Job Success Score, badges)."""

    name = "reviews"
    default_auto_field = "django.db.models.BigAutoField"
