"""Fakes of outside services for tests: a Stripe API server on loopback.

Use the ``fake_stripe`` fixture by importing it into your test package's conftest::

    from tests.fakes.fixtures import fake_stripe, fake_stripe_server  # noqa: F401
"""
