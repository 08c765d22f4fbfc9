from rest_framework.permissions import BasePermission


class NotSuspended(BasePermission):
    """Refuses every API call of a suspended account (session or token)."""

    message = "Your account is suspended."
    code = "account_suspended"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return not (user and user.is_authenticated and getattr(user, "is_suspended", False))
