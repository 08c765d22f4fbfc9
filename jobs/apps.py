from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Job posts, screening questions, saved jobs and searches, invitations, search and matching."""

    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import moderation

        moderation.register()  # jobs and services in the moderation queue
