"""HTML routes of contracts: ``/contracts/offers/...`` and ``/contracts/...``."""

from django.urls import path

from .views import contracts, escrow, offers

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
]
