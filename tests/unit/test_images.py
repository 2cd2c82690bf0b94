"""The image handler: renditions, orientation, metadata stripping, modes, and the guards."""

import io
from dataclasses import replace

import pytest
from PIL import Image, ImageStat, JpegImagePlugin

from fileflow_stages._runtime.content import Analysis, CorruptFileError, DecompressionBombError
from fileflow_stages._runtime.limits import Limits
from fileflow_stages.image.images import render_image
from tests import samples

LIMITS = Limits(thumbnail_sizes=(256, 64))


def _open(analysis: Analysis, name: str) -> Image.Image:
    [derivative] = [d for d in analysis.derivatives if d.name == name]
    image = Image.open(io.BytesIO(derivative.body))
    image.load()
    return image


def test_every_size_gets_a_webp_and_a_jpeg_that_fit_the_box() -> None:
    # Given a 640x480 JPEG / When rendered with sizes 256 and 64
    analysis = render_image(samples.jpeg(640, 480), LIMITS)
    # Then each size has a WEBP and a JPEG rendition, aspect ratio kept, longest edge = the size
    assert [d.name for d in analysis.derivatives] == [
        "thumb-256.webp",
        "thumb-256.jpg",
        "thumb-64.webp",
        "thumb-64.jpg",
    ]
    assert _open(analysis, "thumb-256.webp").format == "WEBP"
    assert _open(analysis, "thumb-256.jpg").size == (256, 192)
    assert _open(analysis, "thumb-64.webp").size == (64, 48)
    assert analysis.result | {"width": 640, "height": 480, "format": "JPEG"} == analysis.result


def test_small_images_are_never_upscaled() -> None:
    analysis = render_image(samples.png(100, 50, mode="RGB"), LIMITS)
    assert _open(analysis, "thumb-256.webp").size == (100, 50)
    assert _open(analysis, "thumb-64.webp").size == (64, 32)


def test_exif_orientation_is_applied_and_metadata_stripped() -> None:
    # Given a landscape-stored JPEG whose EXIF says "rotate 90° clockwise" (orientation 6) and a camera make
    data = samples.jpeg(640, 480, orientation=6)
    assert Image.open(io.BytesIO(data)).getexif()[0x010F] == "Fileflow Test Camera"
    # When rendered
    analysis = render_image(data, LIMITS)
    # Then renditions are portrait, and carry no EXIF (no orientation left to apply twice, no camera)
    for name in ("thumb-256.jpg", "thumb-256.webp"):
        rendition = _open(analysis, name)
        assert rendition.size == (192, 256)
        assert not rendition.getexif()
        assert "exif" not in rendition.info
        assert "icc_profile" not in rendition.info
    assert analysis.result["orientation"] == 6
    assert (analysis.result["width"], analysis.result["height"]) == (480, 640)
    assert analysis.result["metadata_stripped"] is True


def test_transparent_images_get_png_renditions_with_alpha() -> None:
    analysis = render_image(samples.png(320, 200, mode="RGBA"), LIMITS)
    rendition = _open(analysis, "thumb-256.png")
    assert rendition.mode == "RGBA"
    low, _high = rendition.getchannel("A").getextrema()
    assert isinstance(low, int)
    assert low < 255
    assert analysis.result["has_alpha"] is True


def test_cmyk_jpeg_becomes_rgb() -> None:
    analysis = render_image(samples.jpeg(200, 100, mode="CMYK"), LIMITS)
    assert analysis.result["mode"] == "CMYK"
    assert _open(analysis, "thumb-64.jpg").mode == "RGB"


def test_16_bit_greyscale_is_scaled_to_8_bits_not_clipped_to_white() -> None:
    # Given a 16-bit greyscale gradient (0..65535)
    analysis = render_image(samples.png(256, 64, mode="I;16"), LIMITS)
    # Then the rendition is a gradient too: dark at the top, light at the bottom, mid-grey on average
    rendition = _open(analysis, "thumb-256.jpg").convert("L")
    assert analysis.result["bits"] == 16
    assert 100 < ImageStat.Stat(rendition).mean[0] < 160
    assert rendition.getpixel((128, 1)) < 40  # type: ignore[operator]
    assert rendition.getpixel((128, 62)) > 215  # type: ignore[operator]


def test_palette_image_with_transparency_is_resampled_in_rgba() -> None:
    analysis = render_image(samples.png(320, 200, mode="P"), LIMITS)
    assert analysis.result["mode"] == "P"
    assert _open(analysis, "thumb-256.png").mode == "RGBA"


@pytest.mark.parametrize(
    "make", [lambda: samples.gif(frames=4), lambda: samples.webp(frames=3)], ids=["gif", "webp"]
)
def test_animations_are_recognised_and_rendered_from_the_first_frame(make: object) -> None:
    analysis = render_image(make(), LIMITS)  # type: ignore[operator]
    assert analysis.result["animated"] is True
    assert analysis.result["frames"] > 1
    assert not getattr(_open(analysis, "thumb-64.webp"), "is_animated", False)


def test_an_animation_over_the_frame_limit_is_refused() -> None:
    with pytest.raises(DecompressionBombError, match="4 frames"):
        render_image(samples.gif(frames=4), replace(LIMITS, max_animation_frames=3))


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # Given a 300-byte PNG whose header claims 100000 x 100000 pixels
    data = samples.decompression_bomb()
    assert len(data) < 1000
    # When rendered / Then refused as a bomb, without allocating 10 GB
    with pytest.raises(DecompressionBombError, match="pixel limit"):
        render_image(data, LIMITS)


def test_an_image_over_the_configured_pixel_limit_is_refused() -> None:
    with pytest.raises(DecompressionBombError, match="640x480 is 307200 pixels"):
        render_image(samples.jpeg(640, 480), replace(LIMITS, max_image_pixels=300_000))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (samples.truncated_jpeg(), "truncated"),
        (samples.corrupt_image(), "not a decodable"),
        (samples.png(64, 64, mode="RGB")[:60], "truncated|corrupt"),
    ],
    ids=["truncated-jpeg", "garbage-after-signature", "truncated-png"],
)
def test_truncated_and_corrupt_images_fail_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(CorruptFileError, match=reason):
        render_image(data, LIMITS)


def test_large_jpegs_are_decoded_at_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a 4000x3000 JPEG, a largest thumbnail of 256, and draft() observed
    drafted: list[tuple[int, int]] = []
    original_draft = JpegImagePlugin.JpegImageFile.draft

    def observed_draft(
        self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None
    ) -> object:
        result = original_draft(self, mode, size)
        drafted.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", observed_draft)
    # When rendered
    analysis = render_image(samples.jpeg(4000, 3000), LIMITS)
    # Then libjpeg decoded at 1/8 scale (500x375: still larger than the largest thumbnail), and the
    # output is exact
    assert drafted == [(500, 375)]
    assert _open(analysis, "thumb-256.jpg").size == (256, 192)
