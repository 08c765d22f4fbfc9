from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    from accounts.selectors import freelancer_list_visible, taxonomy_categories

    context = {
        "categories": taxonomy_categories()[:12],
        "featured": freelancer_list_visible(viewer=request.user)[:6],
    }
    return render(request, "home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers and docker-compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok"})


def bare(request: HttpRequest) -> JsonResponse:
    """The benchmark floor: a view that touches nothing."""
    return JsonResponse({"ok": True})


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded files, for `make run` and tests (reads MEDIA_ROOT per request)."""
    from django.conf import settings
    from django.views.static import serve

    return serve(request, path, document_root=settings.MEDIA_ROOT)
