from django.urls import path

from . import score_views, views

app_name = "reviews"

urlpatterns = [
    path("contracts/<int:contract_id>/feedback/", views.leave_feedback, name="leave"),
    path("reviews/<int:review_id>/reply/", views.reply, name="reply"),
    path("feedback/", views.feedback_overview, name="overview"),
    path("clients/<str:public_id>/reviews/", views.client_reviews, name="client"),
    # scores (reviews.reputation): a freelancer's Job Success page, and one's own
    path("freelancers/<str:public_id>/job-success/", score_views.score_detail, name="score"),
    path("job-success/", score_views.my_score, name="my_score"),
]
