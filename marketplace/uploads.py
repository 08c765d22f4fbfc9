"""Upload checks shared by every app: size, type by content (not by name), random names.

A file's type is decided by its first bytes; the extension the user gave must agree with
it. Images are decoded with Pillow, re-encoded (which drops EXIF and anything smuggled
after the image data) and optionally resized.
"""

from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from .errors import ApplicationError

Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs


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


def detect_kind(head: bytes, allowed: tuple[str, ...]) -> str | None:
    """The first allowed kind whose magic bytes match ``head`` (text: decodable UTF-8, no NUL)."""
    for key in allowed:
        kind = KINDS[key]
        if kind.magic:
            if any(head.startswith(m) for m in kind.magic):
                if key == "webp" and head[8:12] != b"WEBP":
                    continue
                return key
        elif key == "txt" and b"\x00" not in head:
            try:
                head.decode("utf-8")
            except UnicodeDecodeError:
                # a multi-byte character may be cut at the end of the sample
                try:
                    head[:-4].decode("utf-8")
                except UnicodeDecodeError:
                    continue
            return key
    return None


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
    kind_key = detect_kind(head, allowed)
    names = ", ".join(sorted({ext for k in allowed for ext in KINDS[k].extensions}))
    if kind_key is None:
        raise UploadError(
            f"This file type is not accepted. Allowed: {names}.", code="file_type", extra={"allowed": names}
        )
    ext = _extension(upload.name or "")
    if ext not in KINDS[kind_key].extensions:
        raise UploadError(
            f"The file's name ends in '{ext or '(nothing)'}' but its content is a {KINDS[kind_key].name}. "
            "Rename it or export it again.",
            code="file_extension_mismatch",
        )
    return kind_key


def process_image(upload: UploadedFile, *, max_bytes: int, max_side: int, square: bool = False) -> ContentFile:
    """Validate an image upload and return it re-encoded under a random name."""
    kind_key = validate_file(upload, allowed=IMAGE_KINDS, max_bytes=max_bytes)
    try:
        with Image.open(upload) as probe:
            probe.verify()
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise UploadError("The image could not be read; it may be damaged.", code="image_corrupt")
    if square:
        side = min(image.size)
        left = (image.width - side) // 2
        top = (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if kind_key == "png" or image.mode in ("RGBA", "LA", "P"):
        image.save(out, format="PNG", optimize=True)
        extension = ".png"
    else:
        image.convert("RGB").save(out, format="JPEG", quality=86, optimize=True)
        extension = ".jpg"
    return ContentFile(out.getvalue(), name=random_name(extension))


def process_file(upload: UploadedFile, *, allowed: tuple[str, ...], max_bytes: int) -> ContentFile:
    """Validate a document upload and return its bytes under a random name."""
    kind_key = validate_file(upload, allowed=allowed, max_bytes=max_bytes)
    upload.seek(0)
    data = upload.read()
    return ContentFile(data, name=random_name(_extension(upload.name or "") or KINDS[kind_key].extensions[0]))
