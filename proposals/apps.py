from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    """Proposals, their attachments, Connects (application credits) and the client's shortlist."""

    name = "proposals"
    default_auto_field = "django.db.models.BigAutoField"
