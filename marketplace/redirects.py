"""Where to send a user back to after a form: a ``next`` field, the referrer, else a default.

One rule for every view: a target is taken only when it is a URL of this site, a path
("/...") or an absolute http(s) URL of this host. Anything else (another host, a scheme,
"//host", or a bare word such as "-1" or "home", which ``django.shortcuts.redirect`` would
try to reverse as a view name and fail on with a server error) falls back to the default.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def local_url(
    request: HttpRequest, candidate: str | None, *, require_https: bool | None = None
) -> str | None:
    """``candidate`` when it is a URL of this site (see the module), else None.
    ``require_https``: refuse an absolute http:// URL (default: when the request is secure)."""
    if not candidate or not isinstance(candidate, str):
        return None
    if not (candidate.startswith("/") or candidate.startswith(("http://", "https://"))):
        return None
    secure = request.is_secure() if require_https is None else require_https
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=secure
    ):
        return None
    return candidate


def back_url(
    request: HttpRequest, *candidates: str | None, default: str, require_https: bool | None = None
) -> str:
    """The first of ``candidates`` that is a URL of this site, else ``default`` (a URL or a
    URL name, as ``redirect`` takes)."""
    for candidate in candidates:
        found = local_url(request, candidate, require_https=require_https)
        if found is not None:
            return found
    return resolve_url(default)


def next_url(request: HttpRequest, default: str) -> str:
    """The form's or the address's ``next`` when it is a URL of this site, else ``default``."""
    return back_url(request, request.POST.get("next") or request.GET.get("next"), default=default)


def redirect_back(
    request: HttpRequest, *candidates: str | None, default: str, require_https: bool | None = None
) -> HttpResponseRedirect:
    """A redirect to ``back_url``."""
    return HttpResponseRedirect(back_url(request, *candidates, default=default, require_https=require_https))
