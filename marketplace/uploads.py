"""Upload checks shared by every app: size, type by content (not by name), random names.

A file's type is decided by its first bytes; the extension the user gave must agree with
it. Images are decoded with Pillow, re-encoded (which drops EXIF and anything smuggled
after the image data) and optionally resized.
"""

from __future__ import annotations

import io
import os
import secrets
import unicodedata
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from .errors import ApplicationError

MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard, a second line of defence


class UploadError(ApplicationError):
    code = "invalid_upload"


@dataclass(frozen=True)
class FileKind:
    name: str
    extensions: tuple[str, ...]
    magic: tuple[bytes, ...]


KINDS = {
    "jpeg": FileKind("JPEG image", (".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    "png": FileKind("PNG image", (".png",), (b"\x89PNG\r\n\x1a\n",)),
    "webp": FileKind("WebP image", (".webp",), (b"RIFF",)),
    "gif": FileKind("GIF image", (".gif",), (b"GIF87a", b"GIF89a")),
    "pdf": FileKind("PDF document", (".pdf",), (b"%PDF-",)),
    "zip": FileKind("ZIP archive", (".zip",), (b"PK\x03\x04",)),
    "docx": FileKind("Word document", (".docx",), (b"PK\x03\x04",)),
    "xlsx": FileKind("Excel workbook", (".xlsx",), (b"PK\x03\x04",)),
    "txt": FileKind("Text file", (".txt", ".md", ".csv"), ()),
}
IMAGE_KINDS = ("jpeg", "png", "webp")


def _human_size(num_bytes: int) -> str:
    return f"{num_bytes / (1024 * 1024):.0f} MB" if num_bytes >= 1024 * 1024 else f"{num_bytes // 1024} KB"


def _extension(name: str) -> str:
    return os.path.splitext(os.path.basename(name or ""))[1].lower()


def detect_kinds(head: bytes, allowed: tuple[str, ...]) -> list[str]:
    """The allowed kinds whose signature matches ``head``, in ``allowed`` order.

    Several kinds can share a signature (ZIP, DOCX and XLSX are all ZIP containers); the
    extension then decides among them. Text is decodable UTF-8 without NUL bytes.
    """
    found = []
    for key in allowed:
        kind = KINDS[key]
        if kind.magic:
            if any(head.startswith(m) for m in kind.magic):
                if key == "webp" and head[8:12] != b"WEBP":
                    continue
                found.append(key)
        elif key == "txt" and b"\x00" not in head and _is_utf8(head):
            found.append(key)
    if len(found) > 1 and "txt" in found:
        found.remove("txt")  # a signed format (a PDF, say) is never accepted as plain text
    return found


def _is_utf8(head: bytes) -> bool:
    # a multi-byte character may be cut at the end of the sample
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def detect_kind(head: bytes, allowed: tuple[str, ...]) -> str | None:
    """The first allowed kind whose signature matches ``head``."""
    kinds = detect_kinds(head, allowed)
    return kinds[0] if kinds else None


def safe_display_name(name: str | None, *, max_length: int = 200) -> str:
    """The name a user gave a file, made harmless to show and to send back in
    Content-Disposition: no folders (``../../etc/passwd.png`` -> ``passwd.png``), no control
    or invisible formatting characters (NUL, newlines, the right-to-left override that makes
    ``invoice<U+202E>fdp.exe`` read as ``invoiceexe.pdf``), no leading dots, at most
    ``max_length`` characters with the extension kept. Files are stored under
    ``random_name``; this name is only ever displayed."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").split("/")[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    text = " ".join(text.split()).lstrip(". ")
    if not text:
        return "file"
    if len(text) > max_length:
        stem, extension = os.path.splitext(text)
        extension = extension[:16]
        text = stem[: max_length - len(extension)] + extension
    return text


def random_name(extension: str) -> str:
    """A storage name that reveals nothing and cannot traverse paths."""
    return f"{secrets.token_urlsafe(18)}{extension}"


def validate_file(upload: UploadedFile, *, allowed: tuple[str, ...], max_bytes: int) -> str:
    """Check size, content type and extension; return the detected kind key."""
    if upload is None:
        raise UploadError("Choose a file to upload.", code="file_missing")
    if upload.size is not None and upload.size > max_bytes:
        raise UploadError(
            f"The file is too large ({_human_size(upload.size)}); the limit is {_human_size(max_bytes)}.",
            code="file_too_large",
            extra={"max_bytes": max_bytes},
        )
    if not upload.size:
        raise UploadError("The file is empty.", code="file_empty")
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    kinds = detect_kinds(head, allowed)
    names = ", ".join(sorted({ext for k in allowed for ext in KINDS[k].extensions}))
    if not kinds:
        raise UploadError(
            f"This file type is not accepted. Allowed: {names}.", code="file_type", extra={"allowed": names}
        )
    ext = _extension(safe_display_name(upload.name))
    kind_key = next((k for k in kinds if ext in KINDS[k].extensions), kinds[0])
    if ext not in KINDS[kind_key].extensions:
        raise UploadError(
            f"The file's name ends in '{ext or '(nothing)'}' but its content is a {KINDS[kind_key].name}. "
            "Rename it or export it again.",
            code="file_extension_mismatch",
        )
    return kind_key


def process_image(
    upload: UploadedFile, *, max_bytes: int, max_side: int, square: bool = False
) -> ContentFile:
    """Validate an image upload and return it re-encoded under a random name."""
    kind_key = validate_file(upload, allowed=IMAGE_KINDS, max_bytes=max_bytes)
    try:
        with Image.open(upload) as probe:
            # Only the header is read so far: refuse huge canvases before decoding them.
            if probe.width * probe.height > MAX_PIXELS:
                raise UploadError(
                    f"The image is too large ({probe.width} x {probe.height} pixels); "
                    f"the limit is {MAX_PIXELS // 1_000_000} million pixels.",
                    code="image_too_large",
                )
            probe.verify()
        upload.seek(0)
        image: Image.Image = Image.open(upload)
        image.load()
    except Image.DecompressionBombError:
        raise UploadError(
            f"The image is too large; the limit is {MAX_PIXELS // 1_000_000} million pixels.",
            code="image_too_large",
        )
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise UploadError("The image could not be read; it may be damaged.", code="image_corrupt")
    if square:
        side = min(image.size)
        left = (image.width - side) // 2
        top = (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.info = {}  # no comments, EXIF, ICC or text chunks are carried into the stored file
    if kind_key == "png" or image.mode in ("RGBA", "LA", "P"):
        image.save(out, format="PNG", optimize=True)
        extension = ".png"
    else:
        rgb = image.convert("RGB")
        rgb.info = {}
        rgb.save(out, format="JPEG", quality=86, optimize=True)
        extension = ".jpg"
    return ContentFile(out.getvalue(), name=random_name(extension))


def process_file(upload: UploadedFile, *, allowed: tuple[str, ...], max_bytes: int) -> ContentFile:
    """Validate a document upload and return its bytes under a random name."""
    kind_key = validate_file(upload, allowed=allowed, max_bytes=max_bytes)
    upload.seek(0)
    data = upload.read()
    extension = _extension(safe_display_name(upload.name))
    if extension not in KINDS[kind_key].extensions:
        extension = KINDS[kind_key].extensions[0]
    return ContentFile(data, name=random_name(extension))
