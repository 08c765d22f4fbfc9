from django.apps import AppConfig


class ContractsConfig(AppConfig):
    """Offers, contracts (hourly or fixed), milestones, the work diary, timesheets and disputes."""

    name = "contracts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from payments import audit, registry

        from . import escrow

        registry.register(
            escrow.FUNDING_PURPOSE,
            on_succeeded=escrow.on_funding_succeeded,
            on_failed=escrow.on_funding_failed,
            on_refunded=escrow.on_funding_refunded,
        )
        registry.register(
            escrow.BONUS_PURPOSE, on_succeeded=escrow.on_bonus_succeeded, on_failed=escrow.on_bonus_failed
        )
        audit.register_check(
            "escrow per contract equals funded minus released minus refunded milestones", escrow.audit_escrow
        )
