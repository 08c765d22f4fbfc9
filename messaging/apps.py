from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Conversations on any subject, realtime messages, attachments and notifications.

    Stands on ``accounts`` only; other apps open conversations, post system messages and
    notify people through ``messaging.services``.
    """

    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import moderation

        moderation.register()  # chat messages in the moderation queue
