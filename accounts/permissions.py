from rest_framework.permissions import SAFE_METHODS, BasePermission


class NotSuspended(BasePermission):
    """A suspended account is read-only over the API too (session or token): it may read
    (GET, HEAD, OPTIONS) what it could read before, and every write is refused with code
    ``account_suspended``, as ``accounts.middleware`` does for the pages."""

    message = "Your account is suspended: you can read but not change anything."
    code = "account_suspended"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and getattr(user, "is_suspended", False)):
            return True
        return request.method in SAFE_METHODS
