from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Conversations on any subject, realtime messages, attachments and notifications."""

    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"
