"""Signals jobs sends for apps that build on it (jobs imports none of them).

``job_closed`` is sent inside the transaction that closes or removes a job, so receivers
(proposals refunding Connects, declining open proposals) commit or roll back with it.
Arguments: ``job`` (the locked, saved Job), ``actor``, ``removed_by_staff`` (bool).
"""

from django.dispatch import Signal

job_closed = Signal()
