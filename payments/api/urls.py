"""API routes of payments, under /api/v1/payments/ (included by marketplace/api_urls.py)."""

from django.urls import path

from .. import converters
from . import views

converters.register()

urlpatterns = [
    path("payments/balance/", views.BalanceApi.as_view(), name="api_payments_balance"),
    path("payments/payout-methods/", views.PayoutMethodListApi.as_view(), name="api_payout_methods"),
    path(
        "payments/payout-methods/bank-accounts/",
        views.BankAccountCreateApi.as_view(),
        name="api_payout_method_bank_account",
    ),
    path(
        "payments/payout-methods/stripe/", views.StripeConnectApi.as_view(), name="api_payout_method_stripe"
    ),
    path(
        "payments/payout-methods/<int:method_id>/",
        views.PayoutMethodDetailApi.as_view(),
        name="api_payout_method",
    ),
    path("payments/withdrawals/", views.WithdrawalListCreateApi.as_view(), name="api_withdrawals"),
    path("payments/withdrawals/<int:payout_id>/", views.WithdrawalDetailApi.as_view(), name="api_withdrawal"),
    path("payments/payout-schedule/", views.PayoutScheduleApi.as_view(), name="api_payout_schedule"),
    path("payments/transactions/", views.TransactionListApi.as_view(), name="api_transactions"),
    path("payments/cards/", views.CardListCreateApi.as_view(), name="api_cards"),
    path("payments/cards/<int:card_id>/", views.CardDetailApi.as_view(), name="api_card"),
    path("payments/charges/", views.ChargeListApi.as_view(), name="api_charges"),
    path("payments/movements/", views.MovementListApi.as_view(), name="api_payments_movements"),
    path("payments/invoices/", views.InvoiceListApi.as_view(), name="api_payments_invoices"),
    path("payments/invoices/<str:number>/", views.InvoiceDetailApi.as_view(), name="api_payments_invoice"),
    path(
        "payments/statements/<yyyy:year>-<mm:month>/",
        views.StatementApi.as_view(),
        name="api_payments_statement",
    ),
]
