from django.urls import path

from . import escrow, views

urlpatterns = [
    path("offers/", views.OfferListCreateApi.as_view(), name="api_offers"),
    path("offers/<int:offer_id>/", views.OfferDetailApi.as_view(), name="api_offer_detail"),
    path("offers/<int:offer_id>/accept/", views.OfferAcceptApi.as_view(), name="api_offer_accept"),
    path("offers/<int:offer_id>/decline/", views.OfferDeclineApi.as_view(), name="api_offer_decline"),
    path("offers/<int:offer_id>/withdraw/", views.OfferWithdrawApi.as_view(), name="api_offer_withdraw"),
    path("contracts/", views.ContractListApi.as_view(), name="api_contracts"),
    path("contracts/<int:contract_id>/", views.ContractDetailApi.as_view(), name="api_contract_detail"),
    path(
        "contracts/<int:contract_id>/events/", views.ContractEventsApi.as_view(), name="api_contract_events"
    ),
    path("contracts/<int:contract_id>/pause/", views.ContractPauseApi.as_view(), name="api_contract_pause"),
    path(
        "contracts/<int:contract_id>/resume/", views.ContractResumeApi.as_view(), name="api_contract_resume"
    ),
    path(
        "contracts/<int:contract_id>/weekly-limit/",
        views.ContractWeeklyLimitApi.as_view(),
        name="api_contract_weekly_limit",
    ),
    path("contracts/<int:contract_id>/end/", views.ContractEndApi.as_view(), name="api_contract_end"),
    path(
        "contracts/<int:contract_id>/milestones/",
        views.ContractMilestoneAddApi.as_view(),
        name="api_contract_milestones",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/",
        views.ContractMilestoneDetailApi.as_view(),
        name="api_contract_milestone",
    ),
    # escrow
    path("contracts/<int:contract_id>/fund/", escrow.MilestoneFundApi.as_view(), name="api_milestone_fund"),
    path("contracts/<int:contract_id>/bonus/", escrow.ContractBonusApi.as_view(), name="api_contract_bonus"),
    path(
        "milestones/<int:milestone_id>/submit/",
        escrow.MilestoneSubmitApi.as_view(),
        name="api_milestone_submit",
    ),
    path(
        "milestones/<int:milestone_id>/approve/",
        escrow.MilestoneApproveApi.as_view(),
        name="api_milestone_approve",
    ),
    path(
        "milestones/<int:milestone_id>/request-changes/",
        escrow.MilestoneRequestChangesApi.as_view(),
        name="api_milestone_request_changes",
    ),
    path(
        "milestones/<int:milestone_id>/refund/",
        escrow.MilestoneRefundApi.as_view(),
        name="api_milestone_refund",
    ),
    path(
        "milestones/<int:milestone_id>/refund-request/",
        escrow.MilestoneRefundRequestApi.as_view(),
        name="api_milestone_refund_request",
    ),
]
