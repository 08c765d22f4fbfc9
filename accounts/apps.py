from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users (email login), roles, freelancer and client profiles, the taxonomy, skill tests."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import moderation, teams  # noqa: F401  (teams: its membership signal receivers)

        moderation.register()  # freelancer profiles in the moderation queue
