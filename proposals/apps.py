from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    """Proposals, their attachments, Connects (application credits) and the client's shortlist."""

    name = "proposals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jobs.signals import job_closed

        from .receivers import on_job_closed

        # jobs sends it inside the transaction that closes the job (jobs imports no proposals)
        job_closed.connect(on_job_closed, dispatch_uid="proposals.on_job_closed")

        from payments import registry

        from .services import (
            CONNECTS_PURCHASE_PURPOSE,
            connects_purchase_refund_failed,
            connects_purchase_refunded,
            connects_purchase_succeeded,
        )

        # payments runs them inside the settlement of a Connects charge or refund (payments
        # imports no proposals); the charge becomes revenue at once, so refunds come from it
        registry.register(
            CONNECTS_PURCHASE_PURPOSE,
            on_succeeded=connects_purchase_succeeded,
            on_refunded=connects_purchase_refunded,
            on_refund_failed=connects_purchase_refund_failed,
            refunds_from_revenue=True,
        )
