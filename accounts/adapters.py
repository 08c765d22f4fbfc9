from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    """Sends new freelancers straight into the onboarding wizard and records the sign-up IP.

    A suspended account still signs in: it must be able to read its contracts and hand over
    work; ``accounts.middleware`` keeps it read-only and every page shows the banner with the
    reason and how to appeal."""

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        """Remember the address the account was created from (fraud signals: many sign-ups
        from one IP); the address comes from ``marketplace.net.client_ip``."""
        from marketplace.net import client_ip

        user.signup_ip = (client_ip(request) or None) if request is not None else None
        return super().save_user(request, user, form, commit=commit)

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        """Newcomers land on ``accounts:start``, which sends each to the set-up of the role
        they chose (allauth computes this before the user is logged in, and again when the
        email is confirmed, so the decision is left to a view that sees the user)."""
        return reverse("accounts:start")

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        profile = getattr(user, "freelancer_profile", None) if user.is_authenticated else None
        if (
            user.is_authenticated
            and user.active_role == "freelancer"
            and profile is not None
            and (profile.published_at is None)
        ):
            return reverse("accounts:onboarding")
        return super().get_login_redirect_url(request)
