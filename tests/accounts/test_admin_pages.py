"""Every registered admin page loads for a superuser with data in place: the changelist, a
search on it, and the change page of one row (a smoke test across all apps' admin.py)."""

from __future__ import annotations

import zoneinfo

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts import trust
from accounts.admin_timezone import staff_zone, zone_or_none
from messaging import services as messaging_services
from tests import factories
from tests.accounts.test_identity import png_upload
from tests.accounts.test_staff_dashboard import seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean(settings, tmp_path):
    from payments.gateways import local

    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    cache.clear()
    yield
    local.reset()
    cache.clear()


@pytest.fixture
def data(staff):
    hire = seed()
    conversation = messaging_services.conversation_get_or_create_for_subject(
        subject=hire.job, participants=[hire.client, hire.freelancer]
    )
    messaging_services.message_send(
        actor=hire.client, conversation_id=conversation.pk, body="Pay me on venmo", client_msg_id="a1"
    )
    trust.identity_submit(
        actor=hire.freelancer,
        document_type="passport",
        legal_name="Jane Doe",
        country="PL",
        upload=png_upload(),
    )
    return hire


def _models():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_changelist_search_and_change_page_loads(client, staff, data):
    client.force_login(staff)
    failures = []
    checked_change = 0
    for model, model_admin in _models():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(changelist)
        if response.status_code != 200:
            failures.append(f"{changelist}: {response.status_code}")
            continue
        if model_admin.search_fields:
            searched = client.get(changelist, {"q": "example"})
            if searched.status_code != 200:
                failures.append(f"{changelist}?q=: {searched.status_code}")
        obj = model_admin.get_queryset(response.wsgi_request).order_by("pk").first()
        if obj is None:
            continue
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        response = client.get(change)
        if response.status_code != 200:
            failures.append(f"{change}: {response.status_code}")
        checked_change += 1
    assert failures == []
    assert checked_change >= 15  # the seeded data reaches most admin pages


OUR_APPS = {"accounts", "jobs", "proposals", "contracts", "payments", "messaging", "reviews"}


def test_our_admins_have_columns_search_and_safe_user_fields():
    """Every admin of our apps shows real columns and can be searched; a user foreign key
    is never a <select> of every account (raw id, autocomplete or read-only)."""
    user_model = get_user_model()
    problems = []
    for model, model_admin in _models():
        if model._meta.app_label not in OUR_APPS:
            continue
        label = model._meta.label
        if tuple(model_admin.list_display) == ("__str__",):
            problems.append(f"{label}: no list_display")
        if not model_admin.search_fields and model._meta.model_name not in {"category"}:
            problems.append(f"{label}: no search_fields")
        if model_admin.has_change_permission.__func__ is admin.ModelAdmin.has_change_permission:
            safe = (
                set(model_admin.raw_id_fields)
                | set(model_admin.autocomplete_fields)
                | set(model_admin.readonly_fields or ())
            )
            for field in model._meta.fields:
                if (
                    field.is_relation
                    and field.related_model is user_model
                    and field.name not in safe
                    and model is not user_model
                ):
                    problems.append(f"{label}.{field.name}: user select box")
    assert problems == []


def test_payments_admin_is_read_only(client, staff, data):
    client.force_login(staff)
    request = client.get(reverse("admin:index")).wsgi_request
    for model, model_admin in _models():
        if model._meta.app_label != "payments":
            continue
        assert not model_admin.has_add_permission(request), model._meta.label
        assert not model_admin.has_delete_permission(request), model._meta.label
        assert not model_admin.has_change_permission(request), model._meta.label


# --- admin dates in the staff member's time zone ---------------------------------------------


def test_zone_names_are_checked():
    assert zone_or_none("Europe/Warsaw") == zoneinfo.ZoneInfo("Europe/Warsaw")
    assert zone_or_none("Mars/Olympus") is None
    assert zone_or_none("../../etc/passwd") is None
    assert zone_or_none("") is None


def test_profile_zone_wins_then_cookie_then_utc(rf, staff):
    request = rf.get("/admin/", HTTP_COOKIE="tz=America/New_York")
    request.user = staff  # a client profile only: the cookie decides
    assert staff_zone(request) == zoneinfo.ZoneInfo("America/New_York")
    request = rf.get("/admin/", HTTP_COOKIE="tz=Nowhere/Land")
    request.user = staff
    assert staff_zone(request) == zoneinfo.ZoneInfo("UTC")

    staffer = factories.make_freelancer(is_staff=True)
    staffer.freelancer_profile.timezone = "Asia/Tokyo"
    staffer.freelancer_profile.save(update_fields=["timezone"])
    request = rf.get("/admin/", HTTP_COOKIE="tz=America/New_York")
    request.user = staffer
    assert staff_zone(request) == zoneinfo.ZoneInfo("Asia/Tokyo")


def test_admin_pages_render_in_the_cookie_zone(client, staff):
    seen = {}

    def capture(sender, **kwargs):
        seen["zone"] = timezone.get_current_timezone_name()

    from django.test.signals import template_rendered

    template_rendered.connect(capture)
    try:
        client.force_login(staff)
        client.cookies["tz"] = "Pacific/Auckland"
        assert client.get(reverse("admin:index")).status_code == 200
        assert seen["zone"] == "Pacific/Auckland"
        seen.clear()
        assert client.get(reverse("home")).status_code == 200
        assert seen["zone"] == "UTC"  # only admin pages follow the cookie
    finally:
        template_rendered.disconnect(capture)


def test_admin_pages_load_the_timezone_script(client, staff):
    client.force_login(staff)
    assert b"js/timezone_cookie.js" in client.get(reverse("admin:index")).content


@pytest.mark.parametrize(
    "name",
    [
        "admin/accounts/suspend.html",
        "admin/accounts/identity_reject.html",
        "admin/accounts/contentflag/action.html",
        "admin/reviews/hide.html",
    ],
)
def test_the_reason_pages_extend_one_base(name):
    from django.template.loader import get_template
    from django.template.loader_tags import ExtendsNode

    nodes = get_template(name).template.nodelist  # type: ignore[attr-defined]
    extends = [node for node in nodes if isinstance(node, ExtendsNode)]

    assert [node.parent_name.var for node in extends] == ["admin/action_with_reason.html"]


def test_a_reason_page_lists_the_selection_and_posts_it_back(client, staff):
    # given a user selected in the changelist
    target = factories.make_freelancer()
    client.force_login(staff)

    # when staff choose "suspend" (without apply yet)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "suspend_users", "_selected_action": [target.pk]},
    )

    # then the shared page asks for the reason, with the selection and the action to post back
    body = response.content.decode()
    assert response.status_code == 200
    assert "admin/action_with_reason.html" in [t.name for t in response.templates]
    assert f'<input type="hidden" name="_selected_action" value="{target.pk}">' in body
    assert '<input type="hidden" name="action" value="suspend_users">' in body
    assert '<input type="hidden" name="apply" value="1">' in body
    assert f"<li>{target.email}</li>" in body
    assert "Suspend these users" in body
    assert "&rsaquo; Suspend users" in body
