"""A corpus of hostile uploads against every upload entry point.

Each file is either refused with a clear error, or stored under a random name of ours with
an extension from the allow-list; a name the user gave is kept only sanitised (for display);
and nothing comes back with a content type a browser would run.
"""

from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from marketplace.errors import ApplicationError
from marketplace.uploads import safe_display_name
from tests import factories

UPLOAD_CODES = {
    "file_too_large",
    "file_type",
    "file_extension_mismatch",
    "file_empty",
    "file_missing",
    "image_corrupt",
    "image_too_large",
    "invalid_upload",
}
SAFE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".pdf", ".zip", ".docx", ".xlsx", ".txt", ".md", ".csv"}
STORED_NAME = re.compile(r"^[A-Za-z0-9_-]{24}\.[a-z]{3,4}$")
EXECUTABLE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/javascript",
    "text/javascript",
    "application/x-javascript",
    "application/xml",
    "text/xml",
    "application/x-msdownload",
    "application/x-sh",
}
OVERSIZED = 11 * 1024 * 1024  # above every limit (10 MB is the largest)


def _png(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, format="GIF")
    return out.getvalue()


SCRIPT = b"<script>alert(document.cookie)</script>"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    data: Callable[[], bytes]
    # "refused": every entry point must refuse it; "stored": stored safely (under our own
    # name) wherever its kind is accepted, refused where it is not (a PDF as a photo)
    expect: str = "refused"
    kind: str = ""


CORPUS = [
    Case("oversized", "big.png", lambda: _png() + b"\0" * OVERSIZED),
    Case("exe-as-png", "setup.png", lambda: b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\0" * 512),
    Case("html-as-jpg", "photo.jpg", lambda: b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"),
    Case("gif-js-polyglot", "anim.gif", lambda: _gif() + b"\n/*" + SCRIPT + b"*/"),
    Case("gif-js-as-js", "anim.js", lambda: b"GIF89a=1;alert(document.cookie);//" + b"\0" * 16),
    Case("svg-script", "logo.svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>"),
    Case("html-file", "page.html", lambda: b"<html>" + SCRIPT + b"</html>"),
    Case("nul-in-name", "photo.png\x00.html", _png),
    Case("rtl-override-exe", "invoice\u202efdp.exe", lambda: PDF),
    Case("png-js-polyglot", "cat.png", lambda: _png() + b"\n" + SCRIPT, expect="stored", kind="png"),
    Case(
        "pdf-html-polyglot",
        "report.pdf",
        lambda: PDF + b"<html>" + SCRIPT + b"</html>",
        expect="stored",
        kind="pdf",
    ),
    Case("path-traversal", "../../etc/passwd.png", _png, expect="stored", kind="png"),
    Case("windows-traversal", "..\\..\\windows\\win.ini.png", _png, expect="stored", kind="png"),
    Case("very-long-name", "a" * 3000 + ".png", _png, expect="stored", kind="png"),
    Case("rtl-override-pdf", "report\u202egnp.pdf", lambda: PDF, expect="stored", kind="pdf"),
    Case("empty", "empty.png", lambda: b""),
]


def upload_of(case: Case) -> SimpleUploadedFile:
    upload = SimpleUploadedFile("placeholder", case.data(), content_type="application/octet-stream")
    # past UploadedFile's own name cleaning (basename, 255 characters): the services must
    # cope with any name a parser lets through (the multipart parser is tested below)
    upload._name = case.name
    return upload


# --- entry points: each takes an upload and returns (stored files, the name kept for display) ---


def _profile_photo(upload) -> tuple[list[Any], str | None]:
    from accounts import services

    user = factories.make_published_freelancer()
    profile = services.freelancer_profile_set_photo(actor=user, upload=upload)
    return [profile.photo], None


def _portfolio_image(upload):
    from accounts import services

    item = services.portfolio_item_save(
        actor=factories.make_published_freelancer(), title="Shop", image=upload
    )
    return [item.image], None


def _portfolio_file(upload):
    from accounts import services

    item = services.portfolio_item_save(
        actor=factories.make_published_freelancer(), title="Shop", file=upload
    )
    return [item.file], None


def _job_attachment(upload):
    from jobs import services
    from tests.jobs.conftest import make_job

    job = make_job()
    attachment = services.job_add_attachment(actor=job.client, job_id=job.pk, upload=upload)
    return [attachment.file], attachment.original_name


def _proposal_attachment(upload):
    from jobs.models import Job
    from proposals import services
    from proposals.services import ProposalInput
    from tests.contracts.conftest import COVER_LETTER
    from tests.jobs.conftest import make_job

    job = make_job()
    proposal = services.proposal_submit(
        actor=factories.make_published_freelancer(),
        job_id=job.pk,
        data=ProposalInput(
            duration=Job.Duration.ONE_TO_THREE,
            fixed_amount_cents=150_000,
            cover_letter=COVER_LETTER,
            attachments=[upload],
        ),
    )
    attachment = proposal.attachments.get()
    return [attachment.file], attachment.original_name


def _chat_attachment(upload):
    from messaging import services

    a, b = factories.make_client(), factories.make_freelancer()
    conversation = services.conversation_get_or_create_for_subject(participants=[a, b])
    attachment = services.attachment_upload(actor=a, conversation_id=conversation.pk, upload=upload)
    files = [attachment.file] + ([attachment.thumbnail] if attachment.thumbnail else [])
    assert attachment.content_type not in EXECUTABLE_TYPES
    return files, attachment.original_name


def _contract_file(upload):
    from contracts import services
    from tests.contracts.conftest import Hire

    hire = Hire()
    contract = hire.contract()
    item = services.contract_file_add(actor=hire.freelancer, contract_id=contract.pk, upload=upload)
    return [item.file], item.original_name


def _milestone_submission(upload):
    from contracts import services
    from contracts.models import ContractFile
    from tests.contracts.conftest import Hire, save_card

    hire = Hire()
    contract = hire.contract()
    save_card(hire.client)
    first = contract.milestones.order_by("pk").first()
    services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[first.pk])
    services.milestone_submit(actor=hire.freelancer, milestone_id=first.pk, message="Done", files=[upload])
    item = ContractFile.objects.filter(contract=contract).get()
    return [item.file], item.original_name


def _catalog_image(upload):
    from jobs import catalog
    from tests.jobs.catalog_helpers import make_listing

    listing = make_listing()
    image = catalog.listing_add_image(actor=listing.freelancer, listing_id=listing.pk, upload=upload)
    return [image.image], None


def _identity_document(upload):
    from accounts import trust

    verification = trust.identity_submit(
        actor=factories.make_freelancer(),
        document_type="passport",
        legal_name="Free Lancer",
        country="PL",
        upload=upload,
    )
    return [verification.document], None


IMAGE_ONLY = {"profile-photo", "portfolio-image", "catalog-image"}
ENTRY_POINTS = {
    "profile-photo": _profile_photo,
    "portfolio-image": _portfolio_image,
    "portfolio-file": _portfolio_file,
    "job-attachment": _job_attachment,
    "proposal-attachment": _proposal_attachment,
    "chat-attachment": _chat_attachment,
    "contract-file": _contract_file,
    "milestone-submission": _milestone_submission,
    "catalog-image": _catalog_image,
    "identity-document": _identity_document,
}


@pytest.fixture
def local_gateway(settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


def _assert_stored_safely(files: list[Any], kept_name: str | None, case: Case) -> None:
    assert files, "nothing stored"
    for field in files:
        stored = field.name or ""
        base = stored.rsplit("/", 1)[-1]
        assert ".." not in stored and "\\" not in stored and "\x00" not in stored
        assert STORED_NAME.match(base), f"not a generated name: {stored!r}"
        extension = "." + base.rsplit(".", 1)[-1]
        assert extension in SAFE_EXTENSIONS
        guessed = mimetypes.guess_type(base)[0] or "application/octet-stream"
        assert guessed not in EXECUTABLE_TYPES
        with field.open("rb") as handle:
            content = handle.read()
        if extension in (".jpg", ".jpeg", ".png", ".webp") and b"%PDF" not in content[:8]:
            # images are re-encoded where images are expected; kept as sent in attachments
            # (served with their image type and nosniff, see the download tests)
            assert (
                content[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb", b"RIFF")
                or content[:3] == b"\xff\xd8\xff"
            )
    if kept_name is not None:
        assert kept_name == safe_display_name(case.name) or kept_name.endswith(extension)
        assert "/" not in kept_name and "\\" not in kept_name and not kept_name.startswith(".")
        assert not any(ch in kept_name for ch in "\x00\u202e\n\r")
        assert len(kept_name) <= 255


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
@pytest.mark.parametrize("entry", list(ENTRY_POINTS), ids=list(ENTRY_POINTS))
def test_hostile_upload_is_refused_or_stored_safely(db, local_gateway, entry, case):
    upload = upload_of(case)
    try:
        files, kept_name = ENTRY_POINTS[entry](upload)
    except ApplicationError as error:
        expected_refusal = case.expect == "refused" or (entry in IMAGE_ONLY and case.kind == "pdf")
        assert expected_refusal, f"{entry} refused {case.id}: {error.message}"
        assert error.code in UPLOAD_CODES, (error.code, error.message)
        assert error.message and len(error.message) < 300
        assert "\x00" not in error.message and "\u202e" not in error.message
        return
    assert case.expect == "stored", f"{case.id} was accepted by {entry}"
    assert entry not in IMAGE_ONLY or case.kind != "pdf", f"{entry} accepted a PDF as an image"
    _assert_stored_safely(files, kept_name, case)


def test_images_are_re_encoded_so_appended_script_is_dropped(db):
    from accounts import services

    user = factories.make_published_freelancer()
    upload = SimpleUploadedFile("cat.png", _png() + b"\n" + SCRIPT)
    profile = services.freelancer_profile_set_photo(actor=user, upload=upload)
    with profile.photo.open("rb") as handle:
        assert SCRIPT not in handle.read()


def test_safe_display_name():
    assert safe_display_name("../../etc/passwd.png") == "passwd.png"
    assert safe_display_name("..\\..\\win.ini") == "win.ini"
    assert safe_display_name("photo.png\x00.html") == "photo.png.html"
    assert safe_display_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert safe_display_name("a\r\nb.txt") == "ab.txt"
    assert safe_display_name("...hidden") == "hidden"
    assert safe_display_name("") == "file" and safe_display_name(None) == "file"
    long = safe_display_name("x" * 500 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


# --- over HTTP: Django's multipart parser, then the download's headers ------------------------------


def _multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----corpus7boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _assert_download_headers(response) -> None:
    assert response.status_code == 200
    content_type = response.headers["Content-Type"].split(";")[0].strip()
    assert content_type not in EXECUTABLE_TYPES
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers.get("Content-Disposition", "")
    assert "\n" not in disposition and "\x00" not in disposition and "\u202e" not in disposition
    assert "/" not in disposition.split("filename", 1)[-1].replace("filename*=utf-8''", "")


@pytest.mark.parametrize(
    "filename",
    ["../../etc/passwd.png", "..%2F..%2Fetc%2Fpasswd.png", "evil\u202egnp.png", "x" * 400 + ".png"],
)
def test_chat_upload_over_http_names_and_download(client, db, filename):
    from messaging import services
    from messaging.models import Attachment

    a, b = factories.make_client(), factories.make_freelancer()
    conversation = services.conversation_get_or_create_for_subject(participants=[a, b])
    client.force_login(a)
    body, content_type = _multipart("file", filename, _png() + b"\n" + SCRIPT)
    response = client.generic(
        "POST",
        reverse("messaging:attachment_upload", kwargs={"conversation_id": conversation.pk}),
        body,
        content_type=content_type,
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(conversation=conversation)
    assert "/" not in attachment.original_name and "\u202e" not in attachment.original_name
    assert STORED_NAME.match(attachment.file.name.rsplit("/", 1)[-1])
    download = client.get(reverse("messaging:attachment_download", kwargs={"attachment_id": attachment.pk}))
    _assert_download_headers(download)
    assert SCRIPT not in b"".join(download.streaming_content)


def test_contract_file_pdf_html_polyglot_is_served_as_a_pdf_attachment(client, db):
    from contracts.models import ContractFile
    from tests.contracts.conftest import Hire

    hire = Hire()
    contract = hire.contract()
    client.force_login(hire.freelancer)
    body, content_type = _multipart("file", "..\\report\u202elmth.pdf", PDF + b"<html>" + SCRIPT + b"</html>")
    response = client.generic(
        "POST",
        reverse("contracts:file_upload", kwargs={"contract_id": contract.pk}),
        body,
        content_type=content_type,
    )
    assert response.status_code == 302
    item = ContractFile.objects.get(contract=contract)
    download = client.get(
        reverse("contracts:file_download", kwargs={"contract_id": contract.pk, "file_id": item.pk})
    )
    _assert_download_headers(download)
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_public_media_is_served_with_a_safe_type(client, db):
    """Public uploads (profile photos, job attachments) come from MEDIA_ROOT: in production
    the proxy adds nosniff and a script-less CSP (deploy/nginx.conf); here the dev view."""
    from jobs import services
    from tests.jobs.conftest import make_job

    job = make_job()
    attachment = services.job_add_attachment(
        actor=job.client,
        job_id=job.pk,
        upload=SimpleUploadedFile("notes.txt", b"<html>" + SCRIPT + b"</html>"),
    )
    response = client.get(attachment.file.url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
