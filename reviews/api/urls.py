from django.urls import path

from . import scores, views

urlpatterns = [
    path(
        "contracts/<int:contract_id>/reviews/",
        views.ContractReviewsApi.as_view(),
        name="api_contract_reviews",
    ),
    path("reviews/pending/", views.PendingFeedbackApi.as_view(), name="api_reviews_pending"),
    path("reviews/<int:review_id>/reply/", views.ReviewReplyApi.as_view(), name="api_review_reply"),
    path(
        "freelancers/<str:public_id>/reviews/",
        views.FreelancerReviewsApi.as_view(),
        name="api_freelancer_reviews",
    ),
    path("clients/<str:public_id>/reviews/", views.ClientReviewsApi.as_view(), name="api_client_reviews"),
    # scores and badges (reviews.reputation)
    path(
        "freelancers/<str:public_id>/scores/",
        scores.FreelancerScoresApi.as_view(),
        name="api_freelancer_scores",
    ),
    path("clients/<str:public_id>/scores/", scores.ClientScoresApi.as_view(), name="api_client_scores"),
]
