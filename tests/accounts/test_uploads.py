"""marketplace.uploads (through the profile photo service too), payments.fees and marketplace.money."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from accounts import services
from accounts.models import FreelancerProfile
from marketplace.errors import ApplicationError, PermissionDeniedError
from marketplace.money import format_cents, parse_amount_to_cents
from marketplace.uploads import IMAGE_KINDS, UploadError, process_file, process_image, validate_file
from payments.fees import client_marketplace_fee, fee_cents, freelancer_earnings
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
PORTFOLIO_KINDS = services.PORTFOLIO_FILE_KINDS
RANDOM_NAME = re.compile(r"^[A-Za-z0-9_-]{24}\.(png|jpg)$")
PAYLOAD = b"<?php system($_GET['cmd']); ?><script>alert(document.cookie)</script>"


def _upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _image(name: str, data: bytes, **kwargs) -> bytes:
    """Run ``process_image`` with the profile photo limits and return the stored bytes."""
    options = {"max_bytes": 5 * MB, "max_side": 1600, **kwargs}
    return process_image(_upload(name, data), **options).read()


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _error_code(call) -> str:
    with pytest.raises(UploadError) as caught:
        call()
    return caught.value.code


# --- size --------------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused(png_bytes):
    with pytest.raises(UploadError) as caught:
        process_image(_upload("photo.png", png_bytes), max_bytes=len(png_bytes) - 1, max_side=400)

    assert caught.value.code == "file_too_large"
    assert caught.value.extra == {"max_bytes": len(png_bytes) - 1}
    assert caught.value.status_code == 400


def test_a_file_exactly_at_the_limit_is_accepted(png_bytes):
    content = process_image(_upload("photo.png", png_bytes), max_bytes=len(png_bytes), max_side=400)

    assert _open(content.read()).format == "PNG"


def test_the_size_message_names_both_sizes():
    data = b"%PDF-1.7\n" + b"0" * (3 * MB)

    with pytest.raises(UploadError) as caught:
        validate_file(_upload("cv.pdf", data), allowed=("pdf",), max_bytes=2 * MB)

    assert caught.value.message == "The file is too large (3 MB); the limit is 2 MB."


def test_an_oversized_profile_photo_is_refused(freelancer, settings, png_bytes):
    settings.PROFILE_PHOTO_MAX_BYTES = 100

    with pytest.raises(UploadError) as caught:
        services.freelancer_profile_set_photo(actor=freelancer, upload=_upload("me.png", png_bytes))

    assert caught.value.code == "file_too_large"
    assert not FreelancerProfile.objects.get(user=freelancer).photo


def test_an_empty_file_is_refused():
    assert _error_code(lambda: _image("photo.png", b"")) == "file_empty"


def test_no_file_is_refused():
    with pytest.raises(UploadError) as caught:
        validate_file(None, allowed=IMAGE_KINDS, max_bytes=MB)

    assert caught.value.code == "file_missing"


# --- type by content ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        pytest.param("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4, id="exe"),
        pytest.param("setup.png", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4, id="exe-named-png"),
        pytest.param("noise.jpg", bytes((i * 37 + 11) % 256 for i in range(4096)), id="random-bytes"),
        pytest.param("notes.png", b"Just some text, not an image.\n" * 10, id="text-named-png"),
        pytest.param(
            "page.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>", id="svg"
        ),
        pytest.param("anim.gif", image_bytes("GIF"), id="gif-not-allowed"),
        pytest.param("sound.webp", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64, id="riff-but-not-webp"),
    ],
)
def test_content_that_is_not_an_allowed_image_is_refused(name, data):
    with pytest.raises(UploadError) as caught:
        _image(name, data)

    assert caught.value.code == "file_type"
    assert caught.value.extra == {"allowed": ".jpeg, .jpg, .png, .webp"}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("photo.jpg", "PNG"),
        ("photo.jpeg", "PNG"),
        ("photo.png", "JPEG"),
        ("photo", "PNG"),
        ("photo.webp", "PNG"),
    ],
)
def test_an_image_whose_extension_disagrees_with_its_content_is_refused(name, fmt):
    with pytest.raises(UploadError) as caught:
        _image(name, image_bytes(fmt))

    assert caught.value.code == "file_extension_mismatch"


@pytest.mark.parametrize(
    ("name", "fmt", "stored_format", "extension"),
    [
        ("photo.png", "PNG", "PNG", ".png"),
        ("PHOTO.PNG", "PNG", "PNG", ".png"),
        ("photo.jpg", "JPEG", "JPEG", ".jpg"),
        ("photo.JPEG", "JPEG", "JPEG", ".jpg"),
        ("photo.webp", "WEBP", "JPEG", ".jpg"),
    ],
)
def test_an_allowed_image_is_reencoded_under_a_random_name(name, fmt, stored_format, extension):
    content = process_image(_upload(name, image_bytes(fmt)), max_bytes=5 * MB, max_side=1600)

    assert RANDOM_NAME.match(content.name)
    assert content.name.endswith(extension)
    assert _open(content.read()).format == stored_format


def test_random_names_differ_for_the_same_upload(png_bytes):
    names = {
        process_image(_upload("photo.png", png_bytes), max_bytes=MB, max_side=400).name for _ in range(5)
    }

    assert len(names) == 5


# --- damaged images and smuggled content -----------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            b"\x89PNG\r\n\x1a\n" + bytes((i * 53 + 7) % 256 for i in range(600)), id="magic-then-garbage"
        ),
        pytest.param(image_bytes("PNG", (300, 200))[:120], id="truncated-png"),
        pytest.param(image_bytes("PNG", (300, 200))[:-20], id="png-without-its-end"),
    ],
)
def test_a_damaged_png_is_refused_as_corrupt(data):
    assert _error_code(lambda: _image("photo.png", data)) == "image_corrupt"


def test_a_damaged_jpeg_is_refused_as_corrupt():
    data = b"\xff\xd8\xff\xe0" + b"\x00" * 300

    assert _error_code(lambda: _image("photo.jpg", data)) == "image_corrupt"


@pytest.mark.parametrize(("fmt", "name"), [("PNG", "photo.png"), ("JPEG", "photo.jpg")])
def test_a_polyglot_loses_the_payload_appended_after_the_image(fmt, name):
    polyglot = image_bytes(fmt) + PAYLOAD
    assert _open(polyglot).size == (300, 200)  # still a valid image to a decoder

    stored = _image(name, polyglot)

    assert PAYLOAD not in stored
    assert b"<?php" not in stored
    assert b"<script" not in stored
    assert _open(stored).size == (300, 200)


def test_a_path_traversal_name_is_replaced_by_a_random_safe_name(freelancer, png_bytes, settings):
    upload = _upload("../../etc/passwd.png", png_bytes, "image/png")

    services.freelancer_profile_set_photo(actor=freelancer, upload=upload)

    photo = FreelancerProfile.objects.get(user=freelancer).photo
    directory, _, base = photo.name.partition("/")
    assert directory == "photos"
    assert RANDOM_NAME.match(base)
    assert ".." not in photo.name
    assert "passwd" not in photo.name
    stored = Path(photo.path).resolve()
    assert stored.parent == (Path(settings.MEDIA_ROOT) / "photos").resolve()
    assert stored.is_file()


def test_exif_is_dropped_from_a_jpeg():
    exif = Image.Exif()
    exif[0x010F] = "SecretCamMaker"  # Make
    exif[0x0131] = "SecretEditor"  # Software
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(buffer, format="JPEG", exif=exif.tobytes())
    original = buffer.getvalue()
    assert b"SecretCamMaker" in original

    stored = _image("photo.jpg", original)

    assert b"SecretCamMaker" not in stored
    assert b"SecretEditor" not in stored
    image = _open(stored)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info


def test_exif_and_text_chunks_are_dropped_from_a_png():
    exif = Image.Exif()
    exif[0x010F] = "SecretCamMaker"
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "SecretComment")
    info.add_itxt("Author", "SecretAuthor")
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(buffer, format="PNG", exif=exif.tobytes(), pnginfo=info)
    original = buffer.getvalue()
    assert b"SecretComment" in original

    stored = _image("photo.png", original)

    for secret in (b"SecretCamMaker", b"SecretComment", b"SecretAuthor"):
        assert secret not in stored
    image = _open(stored)
    assert dict(image.getexif()) == {}
    assert image.info == {}


def test_a_payload_in_a_jpeg_comment_is_not_carried_into_the_stored_file():
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(buffer, format="JPEG", comment=PAYLOAD)

    stored = _image("photo.jpg", buffer.getvalue())

    assert PAYLOAD not in stored
    assert "comment" not in _open(stored).info


def _png_canvas(width: int, height: int) -> bytes:
    """A PNG header announcing a ``width`` x ``height`` 1-bit canvas: a few bytes, huge once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_over_40_million_pixels_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (6400, 6400)).save(buffer, format="PNG")  # 40.96 Mpx in about 5 KB

    with pytest.raises(UploadError) as caught:
        _image("bomb.png", buffer.getvalue(), max_side=400)

    assert caught.value.code == "image_too_large"
    assert caught.value.message == (
        "The image is too large (6400 x 6400 pixels); the limit is 40 million pixels."
    )


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_canvas_just_over_the_limit_is_refused_from_its_header_alone():
    assert _error_code(lambda: _image("bomb.png", _png_canvas(8000, 5001), max_side=400)) == "image_too_large"


def test_a_canvas_over_80_million_pixels_is_reported_as_too_large_not_damaged():
    assert _error_code(lambda: _image("bomb.png", _png_canvas(9000, 9000), max_side=400)) == "image_too_large"


# --- resizing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "fmt", "name"), [((900, 600), "JPEG", "me.jpg"), ((500, 1200), "PNG", "me.png")]
)
def test_profile_photo_is_cropped_square_to_400(freelancer, size, fmt, name):
    services.freelancer_profile_set_photo(actor=freelancer, upload=_upload(name, image_bytes(fmt, size)))

    photo = FreelancerProfile.objects.get(user=freelancer).photo
    with photo.open("rb") as stored:
        image = _open(stored.read())
    assert image.size == (400, 400)
    assert image.format == fmt


def test_profile_photo_square_crop_keeps_the_centre(freelancer):
    image = Image.new("RGB", (900, 300), (255, 0, 0))
    image.paste((0, 0, 255), (300, 0, 600, 300))  # blue centre third, red sides
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    services.freelancer_profile_set_photo(actor=freelancer, upload=_upload("me.png", buffer.getvalue()))

    with FreelancerProfile.objects.get(user=freelancer).photo.open("rb") as stored:
        result = _open(stored.read()).convert("RGB")
    assert result.size == (300, 300)
    assert {result.getpixel((0, 0)), result.getpixel((299, 299)), result.getpixel((150, 150))} == {
        (0, 0, 255)
    }


def test_a_small_profile_photo_is_cropped_but_not_enlarged(freelancer, png_bytes):
    services.freelancer_profile_set_photo(actor=freelancer, upload=_upload("me.png", png_bytes))

    with FreelancerProfile.objects.get(user=freelancer).photo.open("rb") as stored:
        assert _open(stored.read()).size == (200, 200)


def test_a_new_profile_photo_replaces_and_deletes_the_old_file(
    freelancer, png_bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.freelancer_profile_set_photo(actor=freelancer, upload=_upload("a.png", png_bytes))
    old = FreelancerProfile.objects.get(user=freelancer).photo
    old_name, storage = old.name, old.storage

    with django_capture_on_commit_callbacks(execute=True):
        services.freelancer_profile_set_photo(actor=freelancer, upload=_upload("b.png", png_bytes))

    new_name = FreelancerProfile.objects.get(user=freelancer).photo.name
    assert new_name != old_name
    assert storage.exists(new_name)
    assert not storage.exists(old_name)


def test_a_corrupt_profile_photo_keeps_the_previous_photo(freelancer, png_bytes):
    services.freelancer_profile_set_photo(actor=freelancer, upload=_upload("a.png", png_bytes))
    before = FreelancerProfile.objects.get(user=freelancer).photo.name

    with pytest.raises(UploadError):
        services.freelancer_profile_set_photo(actor=freelancer, upload=_upload("b.png", png_bytes[:100]))

    assert FreelancerProfile.objects.get(user=freelancer).photo.name == before


def test_a_client_only_user_cannot_set_a_profile_photo(client_user, png_bytes):
    with pytest.raises(PermissionDeniedError) as caught:
        services.freelancer_profile_set_photo(actor=client_user, upload=_upload("me.png", png_bytes))

    assert caught.value.code == "not_freelancer"


def test_a_large_image_is_resized_to_max_side_keeping_its_ratio(jpeg_bytes):
    data = image_bytes("JPEG", (3200, 1000))

    assert _open(_image("wide.jpg", data)).size == (1600, 500)
    assert _open(_image("small.jpg", jpeg_bytes)).size == (300, 200)


# --- documents -----------------------------------------------------------------------------------


def _docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cv.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF"),
        ("notes.txt", "Zażółć gęślą jaźń\n".encode()),
        ("data.csv", b"a,b\n1,2\n"),
        ("archive.zip", _docx_bytes()),
    ],
)
def test_a_document_is_stored_unchanged_under_a_random_name_with_its_extension(name, data):
    content = process_file(_upload(name, data), allowed=PORTFOLIO_KINDS, max_bytes=MB)

    assert content.read() == data
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}" + re.escape(Path(name).suffix), content.name)


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("cv.pdf", b"MZ\x90\x00" + b"\x00" * 100, "file_type"),
        ("cv.pdf", b"\x00\x01binary\x00", "file_type"),
        ("cv.txt", b"%PDF-1.7\n%%EOF", "file_extension_mismatch"),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", "file_extension_mismatch"),
    ],
)
def test_a_document_of_the_wrong_type_is_refused(name, data, code):
    assert (
        _error_code(lambda: process_file(_upload(name, data), allowed=PORTFOLIO_KINDS, max_bytes=MB)) == code
    )


@pytest.mark.parametrize("name", ["cv.docx", "budget.xlsx"])
def test_office_documents_are_accepted_in_the_portfolio(freelancer, name):
    item = services.portfolio_item_save(actor=freelancer, title="CV", file=_upload(name, _docx_bytes()))

    assert item.file.name.endswith(Path(name).suffix)


# --- payments.fees -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "bps", "fee"),
    [
        (1000, 1000, 100),
        (5, 1000, 1),  # 0.5 cent rounds up
        (4, 1000, 0),  # 0.4 cent rounds down
        (15, 1000, 2),  # 1.5 rounds up
        (14, 1000, 1),
        (0, 1000, 0),
        (12345, 0, 0),
        (12345, 10000, 12345),
        (100, 500, 5),
        (10, 500, 1),  # 0.5 rounds up
        (9, 500, 0),  # 0.45 rounds down
    ],
)
def test_fee_cents_rounds_half_up(amount, bps, fee):
    assert fee_cents(amount, bps) == fee


@pytest.mark.parametrize(("amount", "bps"), [(-1, 1000), (1000, -1)])
def test_fee_cents_refuses_negative_inputs(amount, bps):
    with pytest.raises(ValueError, match="must not be negative"):
        fee_cents(amount, bps)


@given(amount=st.integers(min_value=0, max_value=10**12), bps=st.integers(min_value=0, max_value=10_000))
def test_fee_cents_matches_decimal_half_up_rounding(amount, bps):
    exact = Decimal(amount) * Decimal(bps) / Decimal(10_000)

    assert fee_cents(amount, bps) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_freelancer_earnings_with_the_default_10_percent_fee():
    assert django_settings.FREELANCER_SERVICE_FEE_BPS == 1000

    earnings = freelancer_earnings(10_005)

    assert (earnings.gross_cents, earnings.fee_cents, earnings.net_cents, earnings.fee_bps) == (
        10_005,
        1001,
        9004,
        1000,
    )


@given(amount=st.integers(min_value=0, max_value=10**12), bps=st.integers(min_value=0, max_value=10_000))
def test_freelancer_earnings_parts_add_up_to_the_amount(amount, bps):
    with override_settings(FREELANCER_SERVICE_FEE_BPS=bps):
        earnings = freelancer_earnings(amount)

    assert earnings.fee_cents + earnings.net_cents == earnings.gross_cents == amount
    assert 0 <= earnings.fee_cents <= amount
    assert earnings.fee_cents == fee_cents(amount, bps)
    assert earnings.fee_bps == bps


def test_client_marketplace_fee_uses_its_own_rate():
    assert django_settings.CLIENT_MARKETPLACE_FEE_BPS == 500

    assert (client_marketplace_fee(10_000), client_marketplace_fee(10), client_marketplace_fee(9)) == (
        500,
        1,
        0,
    )


# --- marketplace.money ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (123456, "USD", "$1,234.56"),
        (0, "USD", "$0.00"),
        (5, "USD", "$0.05"),
        (100, "USD", "$1.00"),
        (-2550, "USD", "-$25.50"),
        (123456789, "USD", "$1,234,567.89"),
        (1999, "EUR", "EUR 19.99"),
        (None, "USD", ""),
    ],
)
def test_format_cents(cents, currency, text):
    assert format_cents(cents, currency) == text


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12.5", 1250),
        ("12.50", 1250),
        ("12.05", 1205),
        ("25", 2500),
        ("$25", 2500),
        (" $ 25.99 ", 2599),
        ("0.01", 1),
        ("0", 0),
        ("999999999.99", 99_999_999_999),
    ],
)
def test_parse_amount_to_cents(text, cents):
    assert parse_amount_to_cents(text) == cents


@pytest.mark.parametrize(
    "text",
    ["", "abc", "12.345", "-5", "1,000", "1e3", ".5", "12.", "1234567890", "$", "12 50", "25 USD", "NaN"],
)
def test_parse_amount_refuses_anything_else(text):
    with pytest.raises(ApplicationError) as caught:
        parse_amount_to_cents(text)

    assert caught.value.code == "invalid_amount"


@given(cents=st.integers(min_value=0, max_value=99_999))
def test_parse_reads_back_what_format_writes_below_1000_dollars(cents):
    assert parse_amount_to_cents(format_cents(cents)) == cents
