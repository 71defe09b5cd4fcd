"""Checks that bytes are a PNG that really decodes (the stats chart)."""

from __future__ import annotations

import io

from matplotlib.image import imread

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(data: bytes, *, min_width: int = 200) -> None:
    """``data`` starts with PNG's signature and decodes into an RGB(A) image at least
    ``min_width`` pixels wide."""
    assert data.startswith(PNG_MAGIC), data[:16]
    image = imread(io.BytesIO(data), format="png")
    height, width, channels = image.shape
    assert width >= min_width and height > 0 and channels in (3, 4)
