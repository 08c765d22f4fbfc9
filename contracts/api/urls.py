from django.urls import path

from . import disputes, escrow, hourly, timesheets, views

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
    # time tracking (also with "Authorization: Tracker <key>", see contracts.api.hourly)
    path("tracker/contracts/", hourly.TrackerContractsApi.as_view(), name="api_tracker_contracts"),
    path("contracts/<int:contract_id>/segments/", hourly.SegmentListApi.as_view(), name="api_segments"),
    path(
        "contracts/<int:contract_id>/segments/<int:segment_id>/",
        hourly.SegmentDetailApi.as_view(),
        name="api_segment",
    ),
    path(
        "contracts/<int:contract_id>/segments/<int:segment_id>/screenshot/",
        hourly.SegmentScreenshotApi.as_view(),
        name="api_segment_screenshot",
    ),
    path("contracts/<int:contract_id>/timer/", hourly.TimerApi.as_view(), name="api_timer"),
    path("contracts/<int:contract_id>/timer/start/", hourly.TimerStartApi.as_view(), name="api_timer_start"),
    path("contracts/<int:contract_id>/timer/stop/", hourly.TimerStopApi.as_view(), name="api_timer_stop"),
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
    # disputes
    path("disputes/", disputes.DisputeListApi.as_view(), name="api_disputes"),
    path("disputes/<int:dispute_id>/", disputes.DisputeDetailApi.as_view(), name="api_dispute_detail"),
    path(
        "disputes/<int:dispute_id>/statements/",
        disputes.DisputeStatementApi.as_view(),
        name="api_dispute_statements",
    ),
    path(
        "disputes/<int:dispute_id>/proposals/",
        disputes.DisputeProposeApi.as_view(),
        name="api_dispute_proposals",
    ),
    path(
        "dispute-proposals/<int:proposal_id>/accept/",
        disputes.ProposalAcceptApi.as_view(),
        name="api_dispute_proposal_accept",
    ),
    path(
        "dispute-proposals/<int:proposal_id>/reject/",
        disputes.ProposalRejectApi.as_view(),
        name="api_dispute_proposal_reject",
    ),
    path(
        "milestones/<int:milestone_id>/disputes/",
        disputes.MilestoneDisputeOpenApi.as_view(),
        name="api_milestone_dispute_open",
    ),
    path(
        "milestones/<int:milestone_id>/refund-request/reject/",
        disputes.RefundRequestRejectApi.as_view(),
        name="api_milestone_refund_request_reject",
    ),
    path(
        "timesheets/<int:timesheet_id>/disputes/",
        disputes.TimesheetDisputeOpenApi.as_view(),
        name="api_timesheet_dispute_open",
    ),
    # weekly timesheets (contracts.billing)
    path(
        "contracts/<int:contract_id>/timesheets/",
        timesheets.ContractTimesheetsApi.as_view(),
        name="api_contract_timesheets",
    ),
    path(
        "timesheets/<int:timesheet_id>/", timesheets.TimesheetDetailApi.as_view(), name="api_timesheet_detail"
    ),
    path(
        "timesheets/<int:timesheet_id>/retry-payment/",
        timesheets.TimesheetRetryPaymentApi.as_view(),
        name="api_timesheet_retry_payment",
    ),
]
