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

        from .services import CONNECTS_PURCHASE_PURPOSE, connects_purchase_succeeded

        # payments runs it inside the settlement of a Connects charge (payments imports no proposals)
        registry.register(CONNECTS_PURCHASE_PURPOSE, on_succeeded=connects_purchase_succeeded)
