from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template import loader


def home(request: HttpRequest) -> HttpResponse:
    from accounts.selectors import freelancer_list_visible, taxonomy_categories

    context = {
        "categories": taxonomy_categories()[:12],
        "featured": freelancer_list_visible(viewer=request.user)[:6],
    }
    return render(request, "home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers and docker-compose, with the state of
    this process's job search index (``building`` while PostgreSQL answers every search)."""
    from jobs import search_index

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok", "search_index": search_index.status()})


def bare(request: HttpRequest) -> JsonResponse:
    """The benchmark floor: a view that touches nothing."""
    return JsonResponse({"ok": True})


def _api_error(request: HttpRequest, status: int, message: str, code: str) -> JsonResponse | None:
    """Under /api/ the error pages are the API's JSON envelope (a URL that matches no
    route, such as /api/v1/contracts/abc/, never reaches DRF's exception handler)."""
    if not request.path.startswith("/api/"):
        return None
    return JsonResponse({"message": message, "code": code, "extra": {}}, status=status)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    api = _api_error(request, 404, "Not found.", "not_found")
    return api or render(request, "errors/404.html", status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    api = _api_error(request, 403, "You do not have permission to do this.", "permission_denied")
    return api or render(request, "errors/403.html", status=403)


def _standalone_error(template: str, status: int, fallback: str) -> HttpResponse:
    """An error page rendered without the request: no context processors, no session, no
    database. Should even the template fail (a missing static manifest entry, say), the
    answer is still a page, in plain text."""
    try:
        body = loader.get_template(template).render()
    except Exception:  # the last resort must not raise
        return HttpResponse(fallback, status=status, content_type="text/plain; charset=utf-8")
    return HttpResponse(body, status=status)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    api = _api_error(request, 400, "Bad request.", "bad_request")
    return api or _standalone_error("errors/400.html", 400, "Bad request.")


def error_500(request: HttpRequest) -> HttpResponse:
    api = _api_error(request, 500, "Something went wrong on our side.", "server_error")
    return api or _standalone_error(
        "errors/500.html", 500, "Something went wrong on our side. Please try again in a few minutes."
    )


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded files, for `make run` and tests (reads MEDIA_ROOT per request)."""
    from django.conf import settings
    from django.views.static import serve

    return serve(request, path, document_root=settings.MEDIA_ROOT)
