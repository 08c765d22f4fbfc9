"""Identity verification: submission checks, the private document, staff review, the badge."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import trust
from accounts.models import IdentityVerification, ModerationAction, UserModerationEvent
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from messaging.models import Notification
from tests import factories
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    cache.clear()
    yield
    cache.clear()


def png_upload(name: str = "passport.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG", (400, 260)), content_type="image/png")


def pdf_upload(name: str = "id.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def submit(user, upload=None, **overrides) -> IdentityVerification:
    values = {
        "document_type": IdentityVerification.DocumentType.PASSPORT,
        "legal_name": "Jane Q. Doe",
        "country": "PL",
        "upload": upload if upload is not None else png_upload(),
    }
    values.update(overrides)
    return trust.identity_submit(actor=user, **values)


def stored_path(verification: IdentityVerification) -> str:
    return os.path.join(str(settings.PRIVATE_MEDIA_ROOT), verification.document.name)


# --- submission -----------------------------------------------------------------------------


def test_submit_stores_the_document_privately(freelancer):
    verification = submit(freelancer)

    assert verification.status == IdentityVerification.Status.PENDING
    assert verification.legal_name == "Jane Q. Doe"
    path = stored_path(verification)
    assert os.path.exists(path)
    assert path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT))
    assert "passport" not in verification.document.name  # a random name, not the user's
    with pytest.raises(ValueError):
        verification.document.url  # noqa: B018 - private storage has no public URL


def test_submit_accepts_a_pdf(freelancer):
    verification = submit(freelancer, upload=pdf_upload())
    assert verification.document.name.endswith(".pdf")
    with open(stored_path(verification), "rb") as handle:
        assert handle.read() == PDF


def test_submit_refuses_wrong_magic_bytes(freelancer):
    fake = SimpleUploadedFile(
        "passport.png", b"MZ\x90\x00 not really an image" * 10, content_type="image/png"
    )
    with pytest.raises(ApplicationError) as error:
        submit(freelancer, upload=fake)
    assert error.value.code == "file_type"
    assert not IdentityVerification.objects.exists()


def test_submit_refuses_a_pdf_named_as_an_image(freelancer):
    with pytest.raises(ApplicationError) as error:
        submit(freelancer, upload=pdf_upload(name="passport.jpg"))
    assert error.value.code == "file_extension_mismatch"


def test_submit_refuses_an_oversized_file(freelancer, settings):
    settings.IDENTITY_DOCUMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("id.pdf", PDF + b"0" * 2048, content_type="application/pdf")
    with pytest.raises(ApplicationError) as error:
        submit(freelancer, upload=big)
    assert error.value.code == "file_too_large"
    assert not IdentityVerification.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("legal_name", "   ", "legal_name_required"),
        ("country", "XX", "country_invalid"),
        ("document_type", "selfie", "document_type_invalid"),
    ],
)
def test_submit_refuses_bad_fields(freelancer, field, value, code):
    with pytest.raises(ApplicationError) as error:
        submit(freelancer, **{field: value})
    assert error.value.code == code


def test_one_pending_submission_at_a_time(freelancer):
    submit(freelancer)
    with pytest.raises(ApplicationError) as error:
        submit(freelancer, upload=pdf_upload())
    assert error.value.code == "identity_pending"
    assert IdentityVerification.objects.filter(user=freelancer).count() == 1


def test_verified_user_cannot_submit_again(freelancer, staff):
    trust.identity_approve(actor=staff, verification_id=submit(freelancer).pk)
    freelancer.refresh_from_db()
    with pytest.raises(ApplicationError) as error:
        submit(freelancer)
    assert error.value.code == "identity_already_verified"


def test_settings_page_shows_the_form_and_then_the_status(client, freelancer):
    client.force_login(freelancer)
    page = client.get(reverse("accounts:settings"))
    assert page.status_code == 200
    assert b"Identity verification" in page.content
    assert b'enctype="multipart/form-data"' in page.content

    response = client.post(
        reverse("accounts:identity_submit"),
        {"document_type": "id_card", "legal_name": "Jane Doe", "country": "DE", "document": png_upload()},
        follow=True,
    )
    assert response.status_code == 200
    assert b"Your document was sent" in response.content
    assert b"Waiting for review" in response.content
    assert IdentityVerification.objects.get(user=freelancer).document_type == "id_card"


def test_settings_form_shows_the_upload_error(client, freelancer):
    client.force_login(freelancer)
    fake = SimpleUploadedFile("id.pdf", b"GIF89a not a pdf", content_type="application/pdf")
    response = client.post(
        reverse("accounts:identity_submit"),
        {"document_type": "passport", "legal_name": "Jane Doe", "country": "DE", "document": fake},
    )
    assert response.status_code == 400
    assert b"This file type is not accepted" in response.content
    assert not IdentityVerification.objects.exists()


def test_settings_form_without_a_file_is_refused(client, freelancer):
    client.force_login(freelancer)
    response = client.post(
        reverse("accounts:identity_submit"), {"document_type": "passport", "legal_name": "J", "country": "DE"}
    )
    assert response.status_code == 400
    assert not IdentityVerification.objects.exists()


def test_submit_view_needs_login_and_post(client, freelancer):
    assert client.post(reverse("accounts:identity_submit")).status_code == 302  # to the login page
    client.force_login(freelancer)
    assert client.get(reverse("accounts:identity_submit")).status_code == 405


# --- the private document -------------------------------------------------------------------


def test_owner_and_staff_can_open_the_document_others_get_404(client, freelancer, staff, client_user):
    verification = submit(freelancer, upload=pdf_upload())
    url = reverse("accounts:identity_document", args=[verification.pk])

    client.force_login(freelancer)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"

    client.force_login(staff)
    assert client.get(url).status_code == 200

    client.force_login(client_user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("accounts:identity_document", args=[verification.pk + 999])).status_code == 404


def test_anonymous_cannot_open_the_document(client, freelancer):
    verification = submit(freelancer)
    response = client.get(reverse("accounts:identity_document", args=[verification.pk]))
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_document_is_not_under_the_public_media_url(client, freelancer):
    verification = submit(freelancer)
    response = client.get(f"{settings.MEDIA_URL}{verification.document.name}")
    assert response.status_code == 404


# --- review ---------------------------------------------------------------------------------


def test_approve_sets_badge_logs_notifies_and_deletes_the_file(
    freelancer, staff, django_capture_on_commit_callbacks
):
    verification = submit(freelancer)
    path = stored_path(verification)

    with django_capture_on_commit_callbacks(execute=True):
        trust.identity_approve(actor=staff, verification_id=verification.pk)

    verification.refresh_from_db()
    freelancer.refresh_from_db()
    assert verification.status == IdentityVerification.Status.APPROVED
    assert verification.reviewed_by == staff
    assert verification.reviewed_at is not None
    assert freelancer.identity_verified_at == verification.reviewed_at
    assert not verification.document
    assert not os.path.exists(path)
    event = UserModerationEvent.objects.get(user=freelancer)
    assert (event.action, event.actor) == (ModerationAction.ID_APPROVED, staff)
    notification = Notification.objects.get(recipient=freelancer)
    assert "identity is verified" in notification.text
    assert notification.url == reverse("accounts:settings") + "#identity"


def test_reject_keeps_the_reason_clears_the_badge_and_allows_a_new_submission(
    freelancer, staff, django_capture_on_commit_callbacks
):
    verification = submit(freelancer)
    path = stored_path(verification)

    with django_capture_on_commit_callbacks(execute=True):
        trust.identity_reject(actor=staff, verification_id=verification.pk, reason="The photo is blurred.")

    verification.refresh_from_db()
    freelancer.refresh_from_db()
    assert verification.status == IdentityVerification.Status.REJECTED
    assert verification.rejection_reason == "The photo is blurred."
    assert freelancer.identity_verified_at is None
    assert not os.path.exists(path)
    event = UserModerationEvent.objects.get(user=freelancer)
    assert (event.action, event.note) == (ModerationAction.ID_REJECTED, "The photo is blurred.")
    assert "The photo is blurred." in Notification.objects.get(recipient=freelancer).text
    assert submit(freelancer).status == IdentityVerification.Status.PENDING


def test_reject_needs_a_reason(freelancer, staff):
    verification = submit(freelancer)
    with pytest.raises(ApplicationError) as error:
        trust.identity_reject(actor=staff, verification_id=verification.pk, reason="  ")
    assert error.value.code == "reason_required"
    verification.refresh_from_db()
    assert verification.status == IdentityVerification.Status.PENDING


def test_review_is_refused_twice_and_for_non_staff(freelancer, staff, client_user):
    verification = submit(freelancer)
    with pytest.raises(PermissionDeniedError):
        trust.identity_approve(actor=client_user, verification_id=verification.pk)
    with pytest.raises(PermissionDeniedError):
        trust.identity_reject(actor=client_user, verification_id=verification.pk, reason="No")
    trust.identity_approve(actor=staff, verification_id=verification.pk)
    with pytest.raises(ApplicationError) as error:
        trust.identity_reject(actor=staff, verification_id=verification.pk, reason="Changed my mind")
    assert error.value.code == "identity_not_pending"
    with pytest.raises(NotFoundError):
        trust.identity_approve(actor=staff, verification_id=verification.pk + 999)
    with pytest.raises(NotFoundError):
        trust.identity_approve(actor=staff, verification_id="abc")


def test_staff_cannot_review_their_own_document(staff):
    verification = submit(staff)
    with pytest.raises(PermissionDeniedError):
        trust.identity_approve(actor=staff, verification_id=verification.pk)


def test_reviewed_document_link_is_gone(client, freelancer, staff):
    verification = submit(freelancer)
    trust.identity_approve(actor=staff, verification_id=verification.pk)
    client.force_login(staff)
    assert client.get(reverse("accounts:identity_document", args=[verification.pk])).status_code == 404


# --- the badge ------------------------------------------------------------------------------


def test_badge_on_the_public_profile_only_once_verified(client, staff):
    pro = factories.make_published_freelancer()
    url = reverse("accounts:freelancer_detail", args=[pro.freelancer_profile.public_id])
    assert b"ID verified" not in client.get(url).content
    trust.identity_approve(actor=staff, verification_id=submit(pro).pk)
    page = client.get(url)
    assert page.status_code == 200
    assert b'data-testid="id-verified-badge"' in page.content


# --- admin ----------------------------------------------------------------------------------


def test_admin_lists_and_approves_through_the_action(client, freelancer, staff):
    verification = submit(freelancer)
    client.force_login(staff)
    changelist = reverse("admin:accounts_identityverification_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    assert freelancer.email.encode() in page.content
    change = client.get(reverse("admin:accounts_identityverification_change", args=[verification.pk]))
    assert change.status_code == 200
    assert reverse("accounts:identity_document", args=[verification.pk]).encode() in change.content

    response = client.post(
        changelist, {"action": "approve_selected", "_selected_action": [verification.pk]}, follow=True
    )
    assert response.status_code == 200
    assert b"Approved 1 identity document" in response.content
    freelancer.refresh_from_db()
    assert freelancer.identity_verified_at is not None


def test_admin_reject_asks_for_a_reason_first(client, freelancer, staff):
    verification = submit(freelancer)
    client.force_login(staff)
    changelist = reverse("admin:accounts_identityverification_changelist")

    intermediate = client.post(
        changelist, {"action": "reject_selected", "_selected_action": [verification.pk]}
    )
    assert intermediate.status_code == 200
    assert b"Reason (the user is told)" in intermediate.content
    verification.refresh_from_db()
    assert verification.status == IdentityVerification.Status.PENDING

    done = client.post(
        changelist,
        {
            "action": "reject_selected",
            "_selected_action": [verification.pk],
            "apply": "1",
            "reason": "Name does not match the account.",
        },
        follow=True,
    )
    assert b"Rejected 1 identity document" in done.content
    verification.refresh_from_db()
    assert verification.status == IdentityVerification.Status.REJECTED
    assert verification.rejection_reason == "Name does not match the account."


def test_admin_is_refused_to_non_staff(client, freelancer):
    submit(freelancer)
    client.force_login(freelancer)
    response = client.get(reverse("admin:accounts_identityverification_changelist"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_badge_on_proposal_cards_and_client_info(client, staff):
    from tests.contracts.conftest import make_proposal
    from tests.jobs.conftest import make_job

    buyer = factories.make_client()
    pro = factories.make_published_freelancer()
    job = make_job(buyer)
    proposal = make_proposal(job, pro)
    proposals_url = reverse("proposals:job_proposals", args=[job.public_id])
    job_url = reverse("jobs:detail", args=[job.public_id])

    client.force_login(buyer)
    assert b"id-verified-badge" not in client.get(proposals_url).content
    client.force_login(pro)
    assert b"id-verified-badge" not in client.get(job_url).content

    trust.identity_approve(actor=staff, verification_id=submit(pro).pk)
    trust.identity_approve(actor=staff, verification_id=submit(buyer).pk)

    client.force_login(buyer)
    cards = client.get(proposals_url)
    assert cards.status_code == 200
    assert b"id-verified-badge" in cards.content
    detail = client.get(reverse("proposals:detail", args=[proposal.pk]))
    assert detail.status_code == 200
    assert b"id-verified-badge" in detail.content
    client.force_login(pro)
    page = client.get(job_url)
    assert page.status_code == 200
    html = page.content.decode()
    about = html[html.index('data-testid="about-client"') :]
    assert "id-verified-badge" in about[: about.index("</section>")]


def test_closing_the_account_erases_the_document_and_submission(
    freelancer, django_capture_on_commit_callbacks
):
    from accounts import services

    verification = submit(freelancer)
    path = stored_path(verification)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete_account(actor=freelancer)
    assert not os.path.exists(path)
    assert not IdentityVerification.objects.filter(user=freelancer).exists()
    freelancer.refresh_from_db()
    assert freelancer.signup_ip is None


def test_suspended_user_cannot_submit(client, freelancer, staff):
    from accounts import services

    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")
    freelancer.refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        submit(freelancer)
    assert not IdentityVerification.objects.exists()
