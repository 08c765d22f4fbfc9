"""HTML routes of payments under /payments/, and the Stripe webhook endpoint."""

from django.urls import path

from . import converters, views

converters.register()

app_name = "payments"

urlpatterns = [
    path("payments/balance/", views.balance, name="balance"),
    path("payments/balance/withdraw/", views.withdraw, name="withdraw"),
    path("payments/balance/schedule/", views.schedule, name="schedule"),
    path("payments/payout-methods/bank/", views.payout_method_add_bank, name="payout_method_bank"),
    path("payments/payout-methods/stripe/", views.payout_method_connect_stripe, name="payout_method_stripe"),
    path("payments/payout-methods/stripe/return/", views.payout_method_stripe_return, name="stripe_return"),
    path(
        "payments/payout-methods/<int:method_id>/remove/",
        views.payout_method_remove,
        name="payout_method_remove",
    ),
    path("payments/billing/", views.billing, name="billing"),
    path("payments/billing/cards/", views.card_add, name="card_add"),
    path("payments/billing/cards/<int:card_id>/remove/", views.card_remove, name="card_remove"),
    path("payments/billing/cards/<int:card_id>/default/", views.card_default, name="card_default"),
    path("payments/transactions/", views.transactions, name="transactions"),
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]

urlpatterns += [
    path("payments/invoices/", views.invoice_list, name="invoices"),
    path("payments/invoices/<str:number>/", views.invoice_detail, name="invoice"),
    path("payments/receipts/<str:kind>/<int:source_id>/", views.receipt, name="receipt"),
    path("payments/statements/", views.statement_list, name="statements"),
    path("payments/statements/<yyyy:year>-<mm:month>/", views.statement, name="statement"),
]
