"""Uploaded scans: read the request body within a byte limit and decode it within a pixel limit.

Every way an upload can be wrong maps to one 4xx status and a sentence naming the problem: no or
a bad length (411 / 400), too large (413), not an image or a format not accepted (415), a
truncated or corrupt file (422). Scans are decoded in memory; nothing is written to disk.
"""
from __future__ import annotations

import io
import warnings
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

ACCEPTED_FORMATS = ("PNG", "JPEG", "BMP", "TIFF")
ACCEPTED_TYPES = ("image/", "application/octet-stream")
DRAIN_FACTOR = 4


class RequestError(Exception):
    """A request the server refuses: the HTTP status (4xx) to answer with and what is wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _drop(stream: BinaryIO, size: int) -> None:
    """Read and drop ``size`` bytes (fewer when the stream ends first)."""
    while size > 0:
        chunk = stream.read(min(size, 1 << 20))
        if not chunk:
            return
        size -= len(chunk)


def read_body(headers: dict[str, str], stream: BinaryIO, max_bytes: int) -> bytes:
    """The request body (the scan's bytes), checked for its declared length, size and content type.

    A body over the limit is refused unread, but read and dropped first when it is at most
    ``DRAIN_FACTOR`` times the limit, so that a client still sending it gets the answer.
    """
    length = headers.get("Content-Length")
    if length is None:
        raise RequestError(411, "Content-Length is required")
    try:
        size = int(length)
    except ValueError:
        raise RequestError(400, f"Content-Length {length!r} is not a number") from None
    if size > max_bytes:
        if size <= DRAIN_FACTOR * max_bytes:
            _drop(stream, size)
        raise RequestError(413, f"upload is {length} bytes; the limit is {max_bytes} bytes")
    data = stream.read(size) if size > 0 else b""
    if len(data) < size:
        raise RequestError(400, f"upload ended after {len(data)} of {size} bytes")
    content_type = headers.get("Content-Type", "application/octet-stream").split(";")[0].strip().lower()
    if not content_type.startswith(ACCEPTED_TYPES):
        raise RequestError(415, f"Content-Type {content_type} is not accepted: send the scan's bytes as the body "
                                "(image/png, image/jpeg, image/bmp, image/tiff or application/octet-stream)")
    if not data:
        raise RequestError(400, "empty upload: send the scan's bytes as the request body")
    return data


def decode_scan(data: bytes, max_pixels: int) -> np.ndarray:
    """An uploaded PNG / JPEG / BMP / TIFF as an RGB uint8 (H, W, 3) array."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RequestError(413, f"image has more pixels than the limit of {max_pixels}") from None
    except UnidentifiedImageError:
        raise RequestError(415, f"not an image segloc reads ({', '.join(ACCEPTED_FORMATS)})") from None
    except OSError as exc:
        raise RequestError(422, f"cannot read the image header: {exc}") from None
    if image.format not in ACCEPTED_FORMATS:
        raise RequestError(415, f"{image.format} images are not accepted; send {', '.join(ACCEPTED_FORMATS)}")
    width, height = image.size
    if width * height > max_pixels:
        raise RequestError(413, f"image is {width}x{height} pixels; the limit is {max_pixels} pixels")
    try:
        return np.array(image.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise RequestError(422, f"cannot decode the {image.format} image (truncated or corrupt): {exc}") from None
