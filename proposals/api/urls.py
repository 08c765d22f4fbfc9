from django.urls import path

from . import views

urlpatterns = [
    path("proposals/", views.ProposalListCreateApi.as_view(), name="api_proposals"),
    path("proposals/<int:proposal_id>/", views.ProposalDetailApi.as_view(), name="api_proposal_detail"),
    path("proposals/<int:proposal_id>/bid/", views.ProposalBidApi.as_view(), name="api_proposal_bid"),
    path(
        "proposals/<int:proposal_id>/withdraw/",
        views.ProposalWithdrawApi.as_view(),
        name="api_proposal_withdraw",
    ),
    path(
        "proposals/<int:proposal_id>/shortlist/",
        views.ProposalShortlistApi.as_view(),
        name="api_proposal_shortlist",
    ),
    path(
        "proposals/<int:proposal_id>/unshortlist/",
        views.ProposalUnshortlistApi.as_view(),
        name="api_proposal_unshortlist",
    ),
    path(
        "proposals/<int:proposal_id>/archive/",
        views.ProposalArchiveApi.as_view(),
        name="api_proposal_archive",
    ),
    path(
        "proposals/<int:proposal_id>/unarchive/",
        views.ProposalUnarchiveApi.as_view(),
        name="api_proposal_unarchive",
    ),
    path(
        "proposals/<int:proposal_id>/decline/",
        views.ProposalDeclineApi.as_view(),
        name="api_proposal_decline",
    ),
    path(
        "proposals/<int:proposal_id>/message/",
        views.ProposalMessageApi.as_view(),
        name="api_proposal_message",
    ),
    path("jobs/<str:public_id>/proposals/", views.JobProposalListApi.as_view(), name="api_job_proposals"),
    path("connects/", views.ConnectsBalanceApi.as_view(), name="api_connects"),
    path("connects/history/", views.ConnectsHistoryApi.as_view(), name="api_connects_history"),
    path("connects/purchase/", views.ConnectsPurchaseApi.as_view(), name="api_connects_purchase"),
]
