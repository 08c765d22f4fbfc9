from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class SuspendedUserMiddleware:
    """A session of a user suspended while signed in ends at their next request.

    HTML requests see the suspension page with the reason; API requests get the error
    envelope with code ``account_suspended``. (Token-authenticated API calls are refused by
    ``accounts.permissions.NotSuspended``.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "is_suspended", False):
            suspended = user
            logout(request)
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "message": "Your account is suspended: "
                        + suspended.get_suspension_reason_display()
                        + ".",
                        "code": "account_suspended",
                        "extra": {"reason": suspended.suspension_reason},
                    },
                    status=403,
                )
            return render(request, "account/suspended.html", {"suspended_user": suspended}, status=403)
        return self.get_response(request)
