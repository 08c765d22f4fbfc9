from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("me/start/", views.start, name="start"),
    path("me/role/", views.role_switch, name="role_switch"),
    path("me/onboarding/", views.onboarding, name="onboarding"),
    path("me/onboarding/skills/", views.skill_options, name="skill_options"),
    path("me/onboarding/<slug:step>/", views.onboarding, name="onboarding_step"),
    path("me/profile/publish/", views.profile_publish, name="profile_publish"),
    path("me/profile/unpublish/", views.profile_unpublish, name="profile_unpublish"),
    path(
        "me/profile/<slug:kind>/<int:item_id>/delete/", views.profile_item_delete, name="profile_item_delete"
    ),
    path("me/client/profile/", views.client_profile, name="client_profile"),
    path("me/settings/", views.account_settings, name="settings"),
    path("me/settings/delete/", views.account_delete, name="delete"),
    path("me/assessments/", views.assessment_list, name="assessments"),
    path("me/assessments/<int:assessment_id>/start/", views.assessment_start, name="assessment_start"),
    path("me/assessments/attempts/<int:attempt_id>/", views.assessment_attempt, name="assessment_attempt"),
    path(
        "me/assessments/attempts/<int:attempt_id>/result/", views.assessment_result, name="assessment_result"
    ),
    path("freelancers/", views.freelancer_list, name="freelancer_list"),
    path("freelancers/<str:public_id>/", views.freelancer_detail, name="freelancer_detail"),
]
