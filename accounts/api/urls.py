from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api_token"),
    path("me/", views.MeApi.as_view(), name="api_me"),
    path(
        "me/freelancer-profile/", views.OwnFreelancerProfileApi.as_view(), name="api_own_freelancer_profile"
    ),
    path(
        "me/freelancer-profile/publish/",
        views.OwnFreelancerProfilePublishApi.as_view(),
        name="api_own_freelancer_profile_publish",
    ),
    path("me/client-profile/", views.OwnClientProfileApi.as_view(), name="api_own_client_profile"),
    path("freelancers/", views.FreelancerListApi.as_view(), name="api_freelancer_list"),
    path("freelancers/<str:public_id>/", views.FreelancerDetailApi.as_view(), name="api_freelancer_detail"),
    path("taxonomy/categories/", views.CategoryListApi.as_view(), name="api_categories"),
    path("taxonomy/skills/", views.SkillListApi.as_view(), name="api_skills"),
]
