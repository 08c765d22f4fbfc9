from django.urls import path

from . import views

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
]
