"""HTML routes of contracts: ``/contracts/offers/...`` and ``/contracts/...``."""

from django.urls import path

from .views import contracts, disputes, escrow, hourly, offers, timesheets

app_name = "contracts"

urlpatterns = [
    # offers: ?proposal=<id>, or ?freelancer=<user id>[&job=<job id>] for a direct offer
    path("contracts/offers/new/", offers.offer_new, name="offer_new"),
    path("contracts/offers/", offers.offer_list, name="offer_list"),
    path("contracts/offers/<int:offer_id>/", offers.offer_detail, name="offer_detail"),
    path("contracts/offers/<int:offer_id>/accept/", offers.offer_accept, name="offer_accept"),
    path("contracts/offers/<int:offer_id>/decline/", offers.offer_decline, name="offer_decline"),
    path("contracts/offers/<int:offer_id>/withdraw/", offers.offer_withdraw, name="offer_withdraw"),
    # contracts
    path("contracts/", contracts.contract_list, name="list"),
    path("contracts/<int:contract_id>/", contracts.contract_detail, name="detail"),
    path("contracts/<int:contract_id>/pause/", contracts.contract_pause, name="pause"),
    path("contracts/<int:contract_id>/resume/", contracts.contract_resume, name="resume"),
    path("contracts/<int:contract_id>/weekly-limit/", contracts.contract_weekly_limit, name="weekly_limit"),
    path("contracts/<int:contract_id>/end/", contracts.contract_end, name="end"),
    path("contracts/<int:contract_id>/milestones/", contracts.milestone_add, name="milestone_add"),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/edit/",
        contracts.milestone_edit,
        name="milestone_edit",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/delete/",
        contracts.milestone_delete,
        name="milestone_delete",
    ),
    path("contracts/<int:contract_id>/files/", contracts.file_upload, name="file_upload"),
    # time tracking (contracts.views.hourly)
    path("contracts/<int:contract_id>/diary/", hourly.diary, name="diary"),
    path("contracts/<int:contract_id>/timer/start/", hourly.timer_start, name="timer_start"),
    path("contracts/<int:contract_id>/timer/stop/", hourly.timer_stop, name="timer_stop"),
    path("contracts/<int:contract_id>/time/", hourly.time_entry_add, name="time_entry_add"),
    path("contracts/<int:contract_id>/time/<int:segment_id>/memo/", hourly.segment_memo, name="segment_memo"),
    path(
        "contracts/<int:contract_id>/time/<int:segment_id>/delete/",
        hourly.segment_delete,
        name="segment_delete",
    ),
    path(
        "contracts/<int:contract_id>/time/<int:segment_id>/screenshot/",
        hourly.segment_screenshot,
        name="segment_screenshot",
    ),
    path("contracts/tracker-tokens/", hourly.tracker_tokens, name="tracker_tokens"),
    path(
        "contracts/tracker-tokens/<int:token_id>/revoke/",
        hourly.tracker_token_revoke,
        name="tracker_token_revoke",
    ),
    # escrow
    path("contracts/<int:contract_id>/fund/", escrow.milestone_fund, name="milestone_fund"),
    path("contracts/<int:contract_id>/bonus/", escrow.contract_bonus, name="bonus"),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/",
        escrow.milestone_detail,
        name="milestone_detail",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/submit/",
        escrow.milestone_submit,
        name="milestone_submit",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/approve/",
        escrow.milestone_approve,
        name="milestone_approve",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/suspension-refund/",
        escrow.milestone_suspension_refund,
        name="milestone_suspension_refund",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/changes/",
        escrow.milestone_request_changes,
        name="milestone_changes",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/refund/",
        escrow.milestone_refund,
        name="milestone_refund",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/refund-request/",
        escrow.milestone_refund_request,
        name="milestone_refund_request",
    ),
    path("contracts/<int:contract_id>/files/<int:file_id>/", contracts.file_download, name="file_download"),
    # weekly timesheets (hourly)
    path("contracts/<int:contract_id>/timesheets/", timesheets.timesheet_list, name="timesheet_list"),
    path(
        "contracts/<int:contract_id>/timesheets/<int:timesheet_id>/",
        timesheets.timesheet_detail,
        name="timesheet_detail",
    ),
    path(
        "contracts/<int:contract_id>/timesheets/<int:timesheet_id>/retry/",
        timesheets.timesheet_retry,
        name="timesheet_retry",
    ),
    # disputes
    path("contracts/disputes/", disputes.dispute_list, name="dispute_list"),
    path("contracts/disputes/<int:dispute_id>/", disputes.dispute_detail, name="dispute_detail"),
    path(
        "contracts/disputes/<int:dispute_id>/statements/",
        disputes.dispute_statement,
        name="dispute_statement",
    ),
    path("contracts/disputes/<int:dispute_id>/proposals/", disputes.dispute_propose, name="dispute_propose"),
    path(
        "contracts/disputes/<int:dispute_id>/proposals/<int:proposal_id>/accept/",
        disputes.proposal_accept,
        name="dispute_proposal_accept",
    ),
    path(
        "contracts/disputes/<int:dispute_id>/proposals/<int:proposal_id>/reject/",
        disputes.proposal_reject,
        name="dispute_proposal_reject",
    ),
    path(
        "contracts/disputes/<int:dispute_id>/files/<int:file_id>/", disputes.dispute_file, name="dispute_file"
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/dispute/",
        disputes.milestone_dispute_open,
        name="milestone_dispute_open",
    ),
    path(
        "contracts/<int:contract_id>/milestones/<int:milestone_id>/refund-request/reject/",
        disputes.milestone_refund_reject,
        name="milestone_refund_reject",
    ),
    path(
        "contracts/<int:contract_id>/timesheets/<int:timesheet_id>/dispute/",
        disputes.timesheet_dispute_open,
        name="timesheet_dispute_open",
    ),
]
