"""Perceptual hashes of an image, with Pillow and numpy only (imagehash would pull scipy). No boto3.

- pHash: the image in grey at 32 x 32 (LANCZOS), its 2-D DCT-II, the 8 x 8 lowest frequencies; a bit is
  set where the coefficient is above their median. Robust to re-encoding, resizing and small edits.
- dHash: the image in grey at 9 x 8 (LANCZOS); a bit is set where a pixel is brighter than its left
  neighbour. Cheaper, and robust to brightness changes.
Both are 64 bits, written as 16 hex digits (row-major, the first bit the most significant), the way
imagehash writes them, so the two compare bit for bit (bench/analysis.py checks it).
"""

from __future__ import annotations

from functools import cache
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image

HASH_SIZE: Final = 8
PHASH_SIZE: Final = HASH_SIZE * 4


@cache
def _dct_matrix(size: int) -> NDArray[np.float64]:
    """The (unscaled) DCT-II basis: row k holds cos(pi * k * (2n + 1) / 2N); scale does not move a median."""
    k = np.arange(size)[:, None]
    n = np.arange(size)[None, :]
    return np.asarray(2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * size)), dtype=np.float64)


def _grey(image: Image.Image, size: tuple[int, int]) -> NDArray[np.float64]:
    return np.asarray(image.convert("L").resize(size, Image.Resampling.LANCZOS), dtype=np.float64)


def _hex(bits: NDArray[np.bool_]) -> str:
    value = 0
    for bit in bits.flatten():
        value = (value << 1) | int(bit)
    return f"{value:0{bits.size // 4}x}"


def phash(image: Image.Image) -> str:
    pixels = _grey(image, (PHASH_SIZE, PHASH_SIZE))
    basis = _dct_matrix(PHASH_SIZE)
    low = (basis @ pixels @ basis.T)[:HASH_SIZE, :HASH_SIZE]
    return _hex(low > np.median(low))


def dhash(image: Image.Image) -> str:
    pixels = _grey(image, (HASH_SIZE + 1, HASH_SIZE))
    return _hex(pixels[:, 1:] > pixels[:, :-1])


def hamming(first: str, second: str) -> int:
    """How many bits two hashes of the same length differ in."""
    if len(first) != len(second):
        raise ValueError("hashes of different lengths")
    return (int(first, 16) ^ int(second, 16)).bit_count()
