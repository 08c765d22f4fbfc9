"""Staff admin of accounts: user search and filters, suspension with a reason, the other changelists.

The admin login is wrapped by allauth's ``secure_admin_login``, so staff sign in with force_login.
"""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache

from accounts import services
from accounts.models import (
    AssessmentAttempt,
    ModerationAction,
    SkillAssessment,
    User,
    UserModerationEvent,
)
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def listed(response) -> list[User]:
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- user changelist ----------------------------------------------------------------------------


def test_user_changelist(staff_client, freelancer, client_user):
    response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    assert set(listed(response)) >= {freelancer, client_user}


def test_user_search_by_email(staff_client, freelancer, client_user):
    response = staff_client.get(CHANGELIST, {"q": freelancer.email})

    assert response.status_code == 200
    assert listed(response) == [freelancer]


def test_user_search_by_last_name(staff_client, db):
    wanted = factories.make_freelancer(first_name="Grace", last_name="Hopperstein")
    factories.make_freelancer(first_name="Alan", last_name="Turing")

    response = staff_client.get(CHANGELIST, {"q": "hopperstein"})

    assert listed(response) == [wanted]


def test_user_filter_suspended(staff_client, staff, freelancer, client_user):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")

    suspended = staff_client.get(CHANGELIST, {"suspended": "yes"})
    not_suspended = staff_client.get(CHANGELIST, {"suspended": "no"})

    assert suspended.status_code == 200
    assert listed(suspended) == [freelancer]
    assert freelancer not in listed(not_suspended)
    assert client_user in listed(not_suspended)


def test_user_filter_has_role_freelancer(staff_client, staff, freelancer, client_user):
    response = staff_client.get(CHANGELIST, {"has_role": "freelancer"})

    assert response.status_code == 200
    assert listed(response) == [freelancer]


def test_user_filter_has_role_client(staff_client, staff, freelancer, client_user):
    response = staff_client.get(CHANGELIST, {"has_role": "client"})

    assert response.status_code == 200
    assert set(listed(response)) == {staff, client_user}  # the staff fixture signed up as a client


def test_user_filters_combined_with_search(staff_client, staff, freelancer):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")

    response = staff_client.get(CHANGELIST, {"suspended": "yes", "has_role": "client", "q": freelancer.email})

    assert response.status_code == 200
    assert listed(response) == []


def test_user_change_page_shows_moderation_history(staff_client, staff, freelancer):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam", note="Bulk messages")

    response = staff_client.get(f"/admin/accounts/user/{freelancer.pk}/change/")

    assert response.status_code == 200
    assert "Bulk messages" in response.content.decode()


def test_user_add_page_creates_a_user(staff_client, db):
    assert staff_client.get("/admin/accounts/user/add/").status_code == 200

    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "added@example.com",
            "password1": factories.PASSWORD,
            "password2": factories.PASSWORD,
            "usable_password": "true",
            "moderation_events-TOTAL_FORMS": "0",
            "moderation_events-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="added@example.com")
    assert user.check_password(factories.PASSWORD)


# --- suspend and reinstate actions --------------------------------------------------------------


def test_suspend_action_shows_the_intermediate_page(staff_client, freelancer, client_user):
    response = staff_client.post(
        CHANGELIST, {"action": "suspend_users", "_selected_action": [freelancer.pk, client_user.pk]}
    )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/accounts/suspend.html"
    assert set(response.context["users"]) == {freelancer, client_user}
    body = response.content.decode()
    assert freelancer.email in body and client_user.email in body
    assert 'name="apply" value="1"' in body
    assert 'name="reason"' in body
    freelancer.refresh_from_db()
    assert freelancer.suspended_at is None


def test_suspend_action_with_a_reason_suspends_and_logs(staff_client, staff, freelancer):
    response = staff_client.post(
        CHANGELIST,
        {
            "action": "suspend_users",
            "_selected_action": [freelancer.pk],
            "apply": "1",
            "reason": "chargeback",
            "note": "  Three disputed payments.  ",
        },
        follow=True,
    )

    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert "Suspended 1 user(s)." in messages_of(response)
    freelancer.refresh_from_db()
    assert freelancer.suspended_at is not None
    assert (freelancer.suspension_reason, freelancer.suspension_note) == (
        "chargeback",
        "Three disputed payments.",
    )
    event = UserModerationEvent.objects.get(user=freelancer)
    assert (event.action, event.reason, event.note, event.actor) == (
        ModerationAction.SUSPEND,
        "chargeback",
        "Three disputed payments.",
        staff,
    )
    entry = LogEntry.objects.get(object_id=str(freelancer.pk))
    assert entry.user == staff
    assert entry.action_flag == CHANGE
    assert entry.content_type == ContentType.objects.get_for_model(User)
    assert entry.change_message == "Suspended: chargeback"


def test_suspend_action_without_a_reason_asks_again(staff_client, freelancer):
    response = staff_client.post(
        CHANGELIST,
        {"action": "suspend_users", "_selected_action": [freelancer.pk], "apply": "1", "reason": ""},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    freelancer.refresh_from_db()
    assert freelancer.suspended_at is None
    assert not UserModerationEvent.objects.exists()
    assert not LogEntry.objects.exists()


def test_suspend_action_skips_self_and_already_suspended_users(staff_client, staff, freelancer, client_user):
    services.user_suspend(actor=staff, user_id=client_user.pk, reason="spam")

    response = staff_client.post(
        CHANGELIST,
        {
            "action": "suspend_users",
            "_selected_action": [staff.pk, freelancer.pk, client_user.pk],
            "apply": "1",
            "reason": "fraud",
        },
        follow=True,
    )

    shown = messages_of(response)
    assert f"{staff.email}: You cannot suspend yourself." in shown
    assert f"{client_user.email}: {client_user.email} is already suspended." in shown
    assert "Suspended 1 user(s)." in shown
    staff.refresh_from_db()
    client_user.refresh_from_db()
    assert staff.suspended_at is None
    assert client_user.suspension_reason == "spam"
    assert UserModerationEvent.objects.filter(action=ModerationAction.SUSPEND).count() == 2
    assert LogEntry.objects.count() == 1


def test_reinstate_action(staff_client, staff, freelancer):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam", note="Oops")

    response = staff_client.post(
        CHANGELIST, {"action": "reinstate_users", "_selected_action": [freelancer.pk]}, follow=True
    )

    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert "Reinstated 1 user(s)." in messages_of(response)
    freelancer.refresh_from_db()
    assert (freelancer.suspended_at, freelancer.suspension_reason, freelancer.suspension_note) == (
        None,
        "",
        "",
    )
    event = UserModerationEvent.objects.get(user=freelancer, action=ModerationAction.REINSTATE)
    assert event.actor == staff
    assert LogEntry.objects.get(object_id=str(freelancer.pk)).change_message == "Reinstated"


def test_reinstate_action_on_a_user_who_is_not_suspended_warns(staff_client, freelancer):
    response = staff_client.post(
        CHANGELIST, {"action": "reinstate_users", "_selected_action": [freelancer.pk]}, follow=True
    )

    shown = messages_of(response)
    assert f"{freelancer.email}: {freelancer.email} is not suspended." in shown
    assert "Reinstated 0 user(s)." in shown
    assert not UserModerationEvent.objects.exists()


def test_suspended_user_can_log_in_again_after_reinstatement(staff_client, staff, client, freelancer):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")
    staff_client.post(CHANGELIST, {"action": "reinstate_users", "_selected_action": [freelancer.pk]})
    staff_client.logout()

    response = client.post("/accounts/login/", {"login": freelancer.email, "password": factories.PASSWORD})

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == freelancer.pk


# --- other changelists --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "freelancerprofile",
        "clientprofile",
        "category",
        "subcategory",
        "skill",
        "skillassessment",
        "assessmentquestion",
        "assessmentattempt",
        "usermoderationevent",
    ],
)
def test_changelists_render(staff_client, staff, published_freelancer, client_user, model):
    services.user_suspend(actor=staff, user_id=client_user.pk, reason="spam")
    services.assessment_start(actor=published_freelancer, assessment_id=SkillAssessment.objects.first().pk)

    response = staff_client.get(f"/admin/accounts/{model}/")

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def test_freelancer_profile_changelist_search(staff_client, published_freelancer, freelancer):
    response = staff_client.get("/admin/accounts/freelancerprofile/", {"q": published_freelancer.email})

    assert [p.user for p in listed(response)] == [published_freelancer]


def test_freelancer_profile_change_page(staff_client, published_freelancer):
    profile = published_freelancer.freelancer_profile
    services.education_save(actor=published_freelancer, school="MIT")

    response = staff_client.get(f"/admin/accounts/freelancerprofile/{profile.pk}/change/")

    assert response.status_code == 200
    assert "MIT" in response.content.decode()


def test_assessment_attempt_change_page_is_read_only(staff_client, freelancer):
    attempt = services.assessment_start(actor=freelancer, assessment_id=SkillAssessment.objects.first().pk)

    response = staff_client.get(f"/admin/accounts/assessmentattempt/{attempt.pk}/change/")

    assert response.status_code == 200
    assert {"user", "assessment", "score_percent", "passed"} <= set(
        response.context["adminform"].readonly_fields
    )
    assert AssessmentAttempt.objects.count() == 1


def test_moderation_events_cannot_be_added_or_changed(staff_client, staff, freelancer):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")
    event = UserModerationEvent.objects.get()

    assert staff_client.get("/admin/accounts/usermoderationevent/add/").status_code == 403
    view = staff_client.get(f"/admin/accounts/usermoderationevent/{event.pk}/change/")
    assert view.status_code == 200  # view only
    assert view.context["has_change_permission"] is False
    staff_client.post(f"/admin/accounts/usermoderationevent/{event.pk}/delete/", {"post": "yes"})
    assert UserModerationEvent.objects.filter(pk=event.pk).exists()


# --- access -------------------------------------------------------------------------------------


def test_non_staff_user_is_sent_away_from_the_admin(client, freelancer):
    client.force_login(freelancer)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    assert client.get(response["Location"]).status_code == 403
    assert client.get(CHANGELIST).status_code == 302


def test_non_staff_user_cannot_run_admin_actions(client, staff, freelancer, client_user):
    client.force_login(freelancer)

    response = client.post(
        CHANGELIST,
        {"action": "suspend_users", "_selected_action": [client_user.pk], "apply": "1", "reason": "fraud"},
    )

    assert response.status_code == 302
    client_user.refresh_from_db()
    assert client_user.suspended_at is None


def test_anonymous_admin_login_goes_to_the_allauth_login(client, db):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
