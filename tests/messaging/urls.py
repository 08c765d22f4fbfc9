"""The project's URLs plus messaging's, for tests run before messaging is wired into
marketplace/urls.py and marketplace/api_urls.py (then it adds nothing)."""

from django.urls import include, path

from marketplace.urls import handler403, handler404, handler500, urlpatterns as project_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def _wired(patterns, name: str) -> bool:
    return any(getattr(p, "namespace", None) == name for p in patterns)


def _api_wired() -> bool:
    from marketplace import api_urls

    return any(getattr(p, "urlconf_name", None) == "messaging.api.urls" for p in api_urls.urlpatterns) or any(
        getattr(getattr(p, "urlconf_module", None), "__name__", "") == "messaging.api.urls"
        for p in api_urls.urlpatterns
    )


urlpatterns = list(project_urlpatterns)
if not _wired(project_urlpatterns, "messaging"):
    urlpatterns.insert(0, path("", include("messaging.urls")))
if not _api_wired():
    urlpatterns.insert(0, path("api/v1/", include("messaging.api.urls")))
