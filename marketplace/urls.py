from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views

from . import views
from .security import swagger_csp

# Staff sign in through allauth, so that MFA and lock-out apply to the admin too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Marketplace administration"
admin.site.site_title = "Marketplace admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", account_views.dashboard, name="dashboard"),
    path("healthz/", views.healthz, name="healthz"),
    path("bench/bare/", views.bare, name="bench_bare"),
    path("admin/", admin.site.urls),
    # the API first: its requests are matched without walking every page pattern
    path("api/v1/", include("marketplace.api_urls")),
    path("accounts/", include("allauth.urls")),
    # The apps' pages at the root, jobs first: Django tries the patterns in order, and the
    # search page was behind 64 patterns of accounts and proposals (a tenth of an uncached
    # search's time). No path is matched by two of these (tests/marketplace/test_url_order.py),
    # so their order changes nothing else.
    path("", include("jobs.urls")),
    path("", include("accounts.urls")),
    path("", include("proposals.urls")),
    path("", include("messaging.urls")),
    path("", include("payments.urls")),
    path("", include("contracts.urls")),
    path("", include("reviews.urls")),
    path("", include("community.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script as a file: no inline script under the CSP
    path("api/docs/", swagger_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api_docs"),
]

if settings.DEBUG or getattr(settings, "SERVE_MEDIA", False):
    # Development and tests only; in production the proxy serves /media/ (docker-compose).
    urlpatterns += [path("media/<path:path>", views.media, name="media")]

handler400 = "marketplace.views.error_400"
handler404 = "marketplace.views.error_404"
handler403 = "marketplace.views.error_403"
handler500 = "marketplace.views.error_500"
