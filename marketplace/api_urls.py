"""Every app's API under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("proposals.api.urls")),
    path("", include("messaging.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("contracts.api.urls")),
    path("", include("reviews.api.urls")),
    path("", include("community.api.urls")),
]
