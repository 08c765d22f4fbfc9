from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """The double-entry ledger, payment gateways, charges, refunds, payouts and invoices.

    Knows nothing of contracts: every movement carries an opaque purpose and reference.
    Fees are computed in ``payments/fees.py`` (already used by profiles to show net rates).
    """

    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"
