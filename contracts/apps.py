from django.apps import AppConfig


class ContractsConfig(AppConfig):
    """Offers, contracts (hourly or fixed), milestones, the work diary, timesheets and disputes."""

    name = "contracts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.signals import user_suspended

        from .suspension import on_user_suspended

        # a suspended freelancer's contracts pause and their clients are offered the escrow
        user_suspended.connect(on_user_suspended, dispatch_uid="contracts.on_user_suspended")

        from payments import audit, registry

        from . import escrow

        registry.register(
            escrow.FUNDING_PURPOSE,
            on_succeeded=escrow.on_funding_succeeded,
            on_failed=escrow.on_funding_failed,
            on_refunded=escrow.on_funding_refunded,
            on_refund_failed=escrow.on_funding_refund_failed,
        )
        registry.register(
            escrow.BONUS_PURPOSE, on_succeeded=escrow.on_bonus_succeeded, on_failed=escrow.on_bonus_failed
        )
        audit.register_check(
            "escrow per contract equals funded minus released minus refunded milestones", escrow.audit_escrow
        )
        # weekly billing of hourly contracts (contracts.billing)
        from . import billing

        registry.register(
            billing.BILLING_PURPOSE,
            on_succeeded=billing.on_billing_succeeded,
            on_failed=billing.on_billing_failed,
            on_refunded=billing.on_billing_refunded,
        )
        audit.register_check(
            "timesheets in review or dispute hold their escrow, others none", billing.audit_timesheets
        )
