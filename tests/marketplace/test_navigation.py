"""The navigation's figures on every signed-in page: the two badges and the Connects
balance, in one query, equal to what their own selectors say."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from marketplace.context_processors import navigation
from marketplace.navigation import NavigationFigures, navigation_figures
from messaging import selectors as messaging_selectors
from messaging import services as messaging_services
from proposals import selectors as proposals_selectors
from proposals.models import ConnectsWallet
from tests import factories

pytestmark = pytest.mark.django_db


def _expected(user) -> NavigationFigures:
    return NavigationFigures(
        messaging_selectors.unread_total(user=user),
        messaging_selectors.notification_unread_count(user_id=user.pk),
        proposals_selectors.connects_balance(user=user),
    )


def test_the_figures_are_the_selectors_in_one_query(settings):
    with_wallet, without_wallet = factories.make_freelancer(), factories.make_freelancer()
    client = factories.make_client()
    ConnectsWallet.objects.create(user=with_wallet, balance=37)
    conversation = messaging_services.conversation_get_or_create_for_subject(
        participants=[client, with_wallet]
    )
    for text in ("one", "two"):
        messaging_services.message_post_system(conversation=conversation, text=text)
    messaging_services.notify(recipient=without_wallet, kind="offer", text="x")

    for user in (with_wallet, without_wallet, client):
        with CaptureQueriesContext(connection) as queries:
            figures = navigation_figures(user=user)
        assert figures == _expected(user)
        assert len(queries) == 1
    assert navigation_figures(user=with_wallet).connects == 37
    grant = min(settings.CONNECTS_MONTHLY_GRANT, settings.CONNECTS_ROLLOVER_CAP)
    assert navigation_figures(user=without_wallet) == NavigationFigures(0, 1, grant)
    assert navigation_figures(user=client) == NavigationFigures(2, 0, None)


def test_the_context_processor_gives_the_figures_to_signed_in_users_only(settings):
    from django.contrib.auth.models import AnonymousUser

    user = factories.make_freelancer()
    request = RequestFactory().get("/")
    request.user = user
    grant = min(settings.CONNECTS_MONTHLY_GRANT, settings.CONNECTS_ROLLOVER_CAP)
    assert navigation(request) == {"messaging_unread": 0, "notifications_unread": 0, "nav_connects": grant}
    request.user = AnonymousUser()
    assert navigation(request) == {}


def test_the_navigation_shows_a_freelancers_balance_and_not_a_clients(client):
    freelancer = factories.make_freelancer()
    ConnectsWallet.objects.create(user=freelancer, balance=42)
    client.force_login(freelancer)
    assert 'data-testid="nav-connects"' in client.get("/jobs/search/").content.decode()
    assert "42 Connects" in client.get("/jobs/search/").content.decode()

    client.force_login(factories.make_client())
    assert 'data-testid="nav-connects"' not in client.get("/jobs/search/").content.decode()
