"""HTML routes of proposals: applying, a proposal's page and actions, "My proposals", the
client's review page of a job, and Connects."""

from django.urls import path

from . import views

app_name = "proposals"

urlpatterns = [
    path("jobs/<str:public_id>/apply/", views.apply, name="apply"),
    path("jobs/<str:public_id>/proposals/", views.job_proposals, name="job_proposals"),
    path("proposals/", views.my_proposals, name="mine"),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="detail"),
    path("proposals/<int:proposal_id>/bid/", views.proposal_edit_bid, name="edit_bid"),
    path("proposals/<int:proposal_id>/withdraw/", views.proposal_withdraw, name="withdraw"),
    path("proposals/<int:proposal_id>/shortlist/", views.proposal_shortlist, name="shortlist"),
    path("proposals/<int:proposal_id>/unshortlist/", views.proposal_unshortlist, name="unshortlist"),
    path("proposals/<int:proposal_id>/archive/", views.proposal_archive, name="archive"),
    path("proposals/<int:proposal_id>/unarchive/", views.proposal_unarchive, name="unarchive"),
    path("proposals/<int:proposal_id>/decline/", views.proposal_decline, name="decline"),
    path("proposals/<int:proposal_id>/message/", views.proposal_message, name="message"),
    path(
        "proposals/<int:proposal_id>/files/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("connects/", views.connects, name="connects"),
    path("connects/buy/", views.connects_buy, name="connects_buy"),
    path("connects/card/", views.connects_card_add, name="connects_card_add"),
]
