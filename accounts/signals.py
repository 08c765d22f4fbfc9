"""Signals accounts sends for apps standing on it (accounts imports none of them).

``user_suspended(user, actor)``: sent inside the transaction of ``user_suspend``; a
receiver changes its own app's data through its own services (``contracts.suspension``
pauses the suspended freelancer's contracts).
"""

from django.dispatch import Signal

user_suspended = Signal()
