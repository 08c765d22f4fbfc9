from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """The double-entry ledger, payment gateways, charges, refunds, payouts and invoices.

    Knows nothing of contracts: every movement carries an opaque purpose and reference,
    and the app that asked registers its settlement handlers (``payments.registry``) and
    its ledger audit checks (``payments.audit.register_check``) in its own ``ready()``.
    Fees are computed in ``payments/fees.py`` (already used by profiles to show net rates).
    """

    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"
