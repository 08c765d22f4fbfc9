from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.shortcuts import render


class AccountAdapter(DefaultAccountAdapter):
    """Refuses suspended accounts at login and tells them why."""

    def pre_login(self, request: HttpRequest, user, **kwargs):
        if getattr(user, "is_suspended", False):
            return render(request, "account/suspended.html", {"suspended_user": user}, status=403)
        return super().pre_login(request, user, **kwargs)
