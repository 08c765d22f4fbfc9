from django.apps import AppConfig


class ContractsConfig(AppConfig):
    """Offers, contracts (hourly or fixed), milestones, the work diary, timesheets and disputes."""

    name = "contracts"
    default_auto_field = "django.db.models.BigAutoField"
