"""Every app's API under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("messaging.api.urls")),
]
