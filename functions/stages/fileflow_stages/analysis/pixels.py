"""What the pixels of an image say: dimensions, dominant colours, sharpness, edges, colour entropy. No boto3.

Computed on a working copy at most `WORKING_SIDE` pixels on its longest side (the 1024-px derivative
usually), so the cost is bounded whatever the original's size.
- dominant colours: median-cut quantisation to `COLOURS` colours of a 128-px copy; each as hex with
  its share of the pixels, largest first.
- sharpness: the variance of the 4-neighbour Laplacian of the grey image (higher is sharper; under
  ~100 is usually blurred at this size).
- edge density: the share of pixels whose gradient (|dx| + |dy| of the grey image) exceeds `EDGE_STEP`.
- colour entropy: Shannon entropy of a 4-bit-per-channel RGB histogram, divided by its maximum for the
  pixel count (0: one flat colour, 1: every pixel another colour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image

WORKING_SIDE: Final = 1024
COLOURS: Final = 5
PALETTE_SIDE: Final = 128
EDGE_STEP: Final = 48.0


@dataclass(frozen=True, slots=True)
class PixelFacts:
    width: int
    height: int
    dominant_colours: list[dict[str, Any]]
    sharpness: float
    edge_density: float
    colour_entropy: float

    def describe(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "dominant_colours": self.dominant_colours,
            "sharpness": round(self.sharpness, 1),
            "edge_density": round(self.edge_density, 4),
            "colour_entropy": round(self.colour_entropy, 4),
        }


def working_copy(image: Image.Image) -> Image.Image:
    """RGB, at most WORKING_SIDE on its longest side (alpha composited on white)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    rgb = image.convert("RGB")
    if max(rgb.size) > WORKING_SIDE:
        rgb = rgb.copy()
        rgb.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
    return rgb


def dominant_colours(image: Image.Image, count: int = COLOURS) -> list[dict[str, Any]]:
    small = image.copy()
    small.thumbnail((PALETTE_SIDE, PALETTE_SIDE), Image.Resampling.BILINEAR)
    quantized = small.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    # A palette image's colours are (count, palette index) pairs.
    counts = [
        (int(pixels), int(index)) for pixels, index in quantized.getcolors() or [] if isinstance(index, int)
    ]
    total = sum(pixels for pixels, _ in counts) or 1
    colours = []
    for pixels, index in sorted(counts, key=lambda entry: (-entry[0], entry[1])):
        red, green, blue = palette[index * 3 : index * 3 + 3]
        colours.append({"hex": f"#{red:02x}{green:02x}{blue:02x}", "share": round(pixels / total, 3)})
    return colours


def _grey(image: Image.Image) -> NDArray[np.float64]:
    return np.asarray(image.convert("L"), dtype=np.float64)


def laplacian_variance(grey: NDArray[np.float64]) -> float:
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    centre = grey[1:-1, 1:-1]
    laplacian = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4.0 * centre
    return float(laplacian.var())


def edge_density(grey: NDArray[np.float64]) -> float:
    if grey.shape[0] < 2 or grey.shape[1] < 2:
        return 0.0
    gradient = np.abs(np.diff(grey, axis=1))[:-1, :] + np.abs(np.diff(grey, axis=0))[:, :-1]
    return float((gradient > EDGE_STEP).mean())


def colour_entropy(image: Image.Image) -> float:
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint16) >> 4
    bins = (rgb[..., 0] << 8) | (rgb[..., 1] << 4) | rgb[..., 2]
    counts = np.bincount(bins.ravel(), minlength=4096)
    pixels = int(counts.sum())
    if pixels <= 1:
        return 0.0
    shares = counts[counts > 0] / pixels
    entropy = float(-(shares * np.log2(shares)).sum())
    return min(1.0, entropy / math.log2(min(4096, pixels)))


def pixel_facts(image: Image.Image) -> PixelFacts:
    """`image` is a working copy (working_copy()); width and height are the caller's to report."""
    grey = _grey(image)
    return PixelFacts(
        width=image.width,
        height=image.height,
        dominant_colours=dominant_colours(image),
        sharpness=laplacian_variance(grey),
        edge_density=edge_density(grey),
        colour_entropy=colour_entropy(image),
    )
