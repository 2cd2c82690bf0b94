"""Files made in memory for the processing tests: good ones of every type, and hostile ones.

Nothing is checked in: each builder makes its bytes with Pillow, pypdf, python-docx, zipfile or tarfile
(or by hand where a hostile structure cannot be made otherwise: a PNG header claiming 10^10 pixels, a
ZIP entry marked encrypted).
"""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib

import docx
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter

ORIENTATION = 0x0112


def _save(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A picture with structure (so encoders and resamplers do real work), in `mode`."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, max(1, width // 64)):
        draw.line(
            [(x, 0), (x, height)], fill=(x * 255 // width, 80, 255 - x * 255 // width), width=width // 64 + 1
        )
    draw.ellipse([width // 4, height // 4, 3 * width // 4, 3 * height // 4], fill=(250, 220, 40))
    return image.convert(mode) if mode != "RGB" else image


def jpeg(width: int = 640, height: int = 480, *, orientation: int | None = None, mode: str = "RGB") -> bytes:
    image = gradient(width, height, mode)
    exif = Image.Exif()
    exif[0x010F] = "Fileflow Test Camera"  # Make: metadata that must not reach a derivative
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return _save(image, "JPEG", quality=90, exif=exif.tobytes())


def png(width: int = 320, height: int = 200, *, mode: str = "RGBA") -> bytes:
    if mode == "RGBA":
        image = gradient(width, height).convert("RGBA")
        image.putalpha(Image.linear_gradient("L").resize((width, height)))
        return _save(image, "PNG")
    if mode == "P":
        image = gradient(width, height).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
        return _save(image, "PNG", transparency=0)
    if mode == "I;16":
        # 16-bit greyscale: values up to 65535 (a naive convert("L") would clip them all to white)
        image = Image.linear_gradient("L").resize((width, height)).convert("I")
        return _save(image.point(lambda value: value * 256).convert("I;16"), "PNG")
    return _save(gradient(width, height, mode), "PNG")


def webp(width: int = 300, height: int = 300, *, frames: int = 1) -> bytes:
    if frames == 1:
        return _save(gradient(width, height), "WEBP", quality=80)
    images = [gradient(width, height).rotate(index * 10) for index in range(frames)]
    return _save(images[0], "WEBP", save_all=True, append_images=images[1:], duration=100, loop=0)


def gif(width: int = 200, height: int = 150, *, frames: int = 1) -> bytes:
    images = [gradient(width, height).rotate(index * 15).convert("P") for index in range(frames)]
    if frames == 1:
        return _save(images[0], "GIF")
    return _save(images[0], "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)


def truncated_jpeg() -> bytes:
    data = jpeg(800, 600)
    return data[: len(data) // 2]


def corrupt_image() -> bytes:
    """A JPEG signature followed by garbage."""
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def decompression_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming width x height pixels, with almost no data: a few hundred bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def _pdf_of(objects: list[bytes]) -> bytes:
    """A PDF file of these numbered objects (1 is the catalog), with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _pdf_with_text(lines: list[str]) -> bytes:
    """A minimal PDF (one page per line, Helvetica text), offsets computed by hand."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    page_ids = [4 + 2 * index for index in range(len(lines))]
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(len(lines)).encode() + b" >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for page_id, line in zip(page_ids, lines, strict=True):
        content = f"BT /F1 18 Tf 72 720 Td ({line}) Tj ET".encode()
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents " + str(page_id + 1).encode() + b" 0 R >>"
        )
        objects.append(
            b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream"
        )
    return _pdf_of(objects)


def pdf(pages: int = 2) -> bytes:
    return _pdf_with_text([f"Hello Fileflow page {number}" for number in range(1, pages + 1)])


def encrypted_pdf(user_password: str = "secret") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(3))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def malformed_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\nthis is not a pdf body\n"


def docx_file() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Quarterly report"
    document.add_heading("Quarterly report", level=1)
    document.add_paragraph("Fileflow processed this document.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "region"
    table.cell(0, 1).text = "total"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


TEXT = "Fileflow stores files.\nIt processes them too.\n\nThird line here.\n"
CSV = "name,size,kind\nreport.pdf,1024,document\nphoto.jpg,2048,image\nnotes.txt,12,text\n"
JSON = '{"files": [{"name": "a"}, {"name": "b"}], "owner": {"id": 7}}'
MARKDOWN = (
    "# Fileflow\n\nUploads go to [S3](https://aws.amazon.com/s3/).\n\n"
    "## Processing\n\n- images\n- documents\n"
)


def zip_file(entries: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (
            entries or {"docs/readme.txt": b"hello\n", "data/values.csv": b"a,b\n1,2\n"}
        ).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_bomb(uncompressed_bytes: int = 20 * 1024 * 1024) -> bytes:
    """One entry of zeros: ~20 KB on disk, 20 MiB declared and real (a ratio near 1000)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", b"\x00" * uncompressed_bytes)
    return buffer.getvalue()


def zip_slip() -> bytes:
    return zip_file({"readme.txt": b"innocent\n", "../../etc/cron.d/evil": b"* * * * * root sh\n"})


def zip_with_symlink(target: str = "docs/readme.txt") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("docs/readme.txt", b"hello\n")
        link = zipfile.ZipInfo("link-to-readme")
        link.create_system = 3  # unix: external_attr carries the mode
        link.external_attr = (0o120777 << 16) | 0
        archive.writestr(link, target.encode())
    return buffer.getvalue()


def zip_with_encrypted_entry() -> bytes:
    """An entry flagged as encrypted: zipfile cannot encrypt, so the flag bit is set in the headers."""
    data = bytearray(zip_file({"secret.txt": b"ciphertext-like bytes", "public.txt": b"hello\n"}))
    local = data.find(b"PK\x03\x04")  # the first entry's local header: flags at +6
    central = data.find(b"PK\x01\x02")  # its central directory entry: flags at +8
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    return bytes(data)


def nested_zip() -> bytes:
    return zip_file({"inner.zip": zip_file(), "readme.txt": b"outer\n"})


def overlapping_zip() -> bytes:
    """Two central-directory entries pointing at the same local data (a non-recursive zip bomb)."""
    data = bytearray(zip_file({"a.txt": b"A" * 100, "b.txt": b"B" * 100}))
    end = data.rfind(b"PK\x05\x06")
    central = struct.unpack_from("<I", data, end + 16)[0]
    second = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, second + 42, 0)  # the second entry's local header offset -> the first's
    return bytes(data)


def tar_file(
    members: dict[str, bytes] | None = None, *, compression: str = "", symlinks: dict[str, str] | None = None
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as archive:  # type: ignore[call-overload]
        for name, content in (
            members or {"docs/readme.txt": b"hello\n", "data/values.csv": b"a,b\n1,2\n"}
        ).items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def tar_bomb(uncompressed_bytes: int = 20 * 1024 * 1024) -> bytes:
    """A tar.gz of zeros: tiny compressed, 20 MiB inflated."""
    return tar_file({"zeros.bin": b"\x00" * uncompressed_bytes}, compression="gz")


def tar_slip() -> bytes:
    return tar_file({"ok.txt": b"fine\n", "/etc/passwd": b"root::0:0::/root:/bin/sh\n"})


def mp4(seconds: float = 2.0, width: int = 1280, height: int = 720, *, audio: bool = True) -> bytes:
    """A real H.264/AAC MP4, made with the ffmpeg the video stage bundles (imageio-ffmpeg)."""
    import subprocess
    import tempfile
    from pathlib import Path

    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as work:
        target = Path(work) / "clip.mp4"
        args = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin"]
        args += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}"]
        if audio:
            args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        if audio:
            args += ["-c:a", "aac", "-shortest"]
        args += ["-movflags", "+faststart", "-y", str(target)]
        subprocess.run(args, check=True, timeout=120)
        return target.read_bytes()


def truncated_mp4() -> bytes:
    """An MP4 cut in half: its media data ends early (the moov box, after faststart, is intact)."""
    whole = mp4(2.0, 640, 360)
    return whole[: len(whole) // 2]


# --- hostile files of the reliability corpus (tests/corpus.py) ------------------------------------------


def truncated_png() -> bytes:
    """A PNG cut inside its image data: the header is intact, the pixels end early."""
    data = png(640, 480, mode="RGB")
    return data[: len(data) // 2]


def png_with_bad_crc() -> bytes:
    """A PNG whose header chunk's CRC does not match its bytes."""
    data = bytearray(png(64, 64, mode="RGB"))
    data[29] ^= 0xFF  # the IHDR chunk's CRC: 8 (signature) + 4 (length) + 4 (type) + 13 (payload)
    return bytes(data)


def gif_screen_bomb(width: int = 65_535, height: int = 65_535) -> bytes:
    """A one-pixel GIF whose logical screen claims width x height pixels (the size Pillow reports)."""
    data = bytearray(gif(1, 1))
    struct.pack_into("<HH", data, 6, width, height)
    return bytes(data)


def gif_frame_bomb(frames: int = 1001) -> bytes:
    """A tiny animation of `frames` frames, alternating colours so the encoder keeps every one."""
    images = [Image.new("P", (4, 4), index % 2) for index in range(frames)]
    for image in images:
        image.putpalette([0, 0, 0, 255, 255, 255])
    return _save(images[0], "GIF", save_all=True, append_images=images[1:], duration=20, loop=0)


def corrupt_webp() -> bytes:
    """A RIFF/WEBP container whose VP8 chunk holds garbage."""
    payload = b"VP8 " + struct.pack("<I", 512) + bytes(range(256)) * 2
    return b"RIFF" + struct.pack("<I", len(payload) + 4) + b"WEBP" + payload


def zip_declaring_huge_entry(declared_bytes: int = 0xFFFF0000) -> bytes:
    """A small ZIP whose central directory declares one entry of ~4 GiB uncompressed."""
    data = bytearray(zip_file({"huge.bin": b"tiny"}))
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared_bytes)  # the entry's uncompressed size
    return bytes(data)


def zip_with_many_entries(entries: int = 10_001) -> bytes:
    """More entries than the processor lists: each one empty, so the archive stays small."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index in range(entries):
            archive.writestr(f"e/{index}", b"")
    return buffer.getvalue()


def nested_zip_bomb(copies: int = 4) -> bytes:
    """A ZIP of ZIP bombs (the 42.zip shape): the outer archive is small and lists fine."""
    return zip_file({f"layer-{index}.zip": zip_bomb() for index in range(copies)})


def truncated_zip() -> bytes:
    """A ZIP cut before its central directory."""
    data = zip_file({"a.txt": b"A" * 4000, "b.txt": bytes(range(256)) * 16})
    return data[: len(data) // 2]


def tar_with_hardlink(target: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("hard")
        info.type = tarfile.LNKTYPE
        info.linkname = target
        archive.addfile(info)
    return buffer.getvalue()


def tar_with_device() -> bytes:
    """A tar holding a character device node (what `tar x` as root would create)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("dev/null-ish")
        info.type = tarfile.CHRTYPE
        info.devmajor, info.devminor = 1, 3
        archive.addfile(info)
        content = b"hello\n"
        readme = tarfile.TarInfo("readme.txt")
        readme.size = len(content)
        archive.addfile(readme, io.BytesIO(content))
    return buffer.getvalue()


def truncated_tar_gz() -> bytes:
    """A tar.gz cut inside its compressed stream (its first header still inflates)."""
    data = tar_file(
        {"a.bin": bytes(range(256)) * 400, "b.bin": bytes(range(255, -1, -1)) * 400}, compression="gz"
    )
    return data[: len(data) // 2]


def tar_xz_bomb(uncompressed_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A tar.xz of zeros: a few KB that inflate to 64 MiB (xz compresses zeros ~10,000x)."""
    return tar_file({"zeros.bin": b"\x00" * uncompressed_bytes}, compression="xz")


def truncated_pdf() -> bytes:
    """A PDF cut in half: no cross-reference table, no trailer."""
    data = pdf(3)
    return data[: len(data) // 2]


def pdf_page_bomb(pages: int = 5000) -> bytes:
    """A PDF of a few KB whose page tree lists one page object `pages` times."""
    content = b"BT /F1 18 Tf 72 720 Td (page) Tj ET"
    kids = b" ".join([b"4 0 R"] * pages)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    return _pdf_of(objects)


def malformed_docx() -> bytes:
    """The parts a Word document needs, holding no XML."""
    return zip_file(
        {"[Content_Types].xml": b"<Types", "word/document.xml": b"\x00\x01 not xml", "_rels/.rels": b"?"}
    )


def docx_bomb(uncompressed_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A Word document whose document.xml inflates 64 MiB of spaces (a ~1000x ratio)."""
    with zipfile.ZipFile(io.BytesIO(docx_file())) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"] + b" " * uncompressed_bytes
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def encrypted_docx() -> bytes:
    """What Word writes for a password-protected .docx: an OLE2 compound file (EncryptionInfo and
    EncryptedPackage streams), not a ZIP. Only the container's header is real here."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HHH", 0x3E, 3, 0xFFFE)
    return header + b"\x00" * (512 - len(header)) + "EncryptedPackage".encode("utf-16-le") * 16


def pdf_zip_polyglot() -> bytes:
    """A valid PDF with a ZIP appended: PDF readers and unzip both open it."""
    return pdf(1) + zip_file({"payload.txt": b"hidden\n"})


def gifar() -> bytes:
    """A GIF with a JAR (a ZIP) appended: the classic GIFAR polyglot."""
    return gif(32, 32) + zip_file({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n"})


def elf_executable() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 240


def html_page() -> bytes:
    return b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"


def huge_text(size: int) -> bytes:
    """`size` bytes of ordinary lines of words (made by repetition, fast at tens of MB)."""
    line = b"Fileflow keeps every uploaded file and processes it in its own workflow.\n"
    return (line * (size // len(line) + 1))[:size]


def control_characters(size: int = 4096) -> bytes:
    """Bytes that are mostly C0 control characters: binary posing as text."""
    return bytes(index % 32 for index in range(size))


def deeply_nested_json(depth: int = 100_000) -> bytes:
    """A JSON array nested `depth` deep: a recursive parser runs out of stack."""
    return b"[" * depth + b"]" * depth


def invalid_utf8_text() -> bytes:
    """Mostly UTF-8 text with stray invalid bytes in it."""
    return ("Grüße aus Köln. " * 200).encode() + b"\xff\xfe\xc3\x28 broken " + ("Ende. " * 50).encode()


def bidi_text() -> bytes:
    """Text full of bidi overrides, isolates and zero-width characters."""
    return ("abc\u202edcba\u202c \u2066x\u2069 \u200b\u200d\ufeff שלום مرحبا\n" * 200).encode()


def _ffmpeg_clip(inputs: list[str], output: list[str], suffix: str = ".mp4") -> bytes:
    """A clip made with the bundled ffmpeg from lavfi `inputs`, encoded with `output` options."""
    import subprocess
    import tempfile
    from pathlib import Path

    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as work:
        target = Path(work) / f"clip{suffix}"
        args = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin"]
        args += [*inputs, *output, "-fflags", "+bitexact", "-y", str(target)]
        subprocess.run(args, check=True, timeout=120)
        return target.read_bytes()


def long_mp4(seconds: int = 960) -> bytes:
    """A 32x32 video at 1 frame per second lasting `seconds` (past the 15-minute limit): a few KB."""
    return _ffmpeg_clip(
        ["-f", "lavfi", "-i", f"color=c=blue:size=32x32:rate=1:duration={seconds}"],
        ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"],
    )


def wide_mp4(width: int = 4160, height: int = 16) -> bytes:
    """A short video whose frame is wider than the 4096-pixel limit."""
    return _ffmpeg_clip(
        ["-f", "lavfi", "-i", f"color=c=red:size={width}x{height}:rate=5:duration=0.4"],
        ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"],
    )


def audio_only_mp4() -> bytes:
    """An MP4 (brand isom) holding AAC audio and no video stream."""
    return _ffmpeg_clip(
        ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"], ["-c:a", "aac", "-movflags", "+faststart"]
    )


def broken_mp4() -> bytes:
    """An ftyp box (brand isom) followed by garbage."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    return ftyp + bytes(range(256)) * 8


def corrupt_webm() -> bytes:
    """An EBML header naming the webm DocType, then garbage where the segment should be."""
    doctype = b"\x42\x82\x84webm"
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doctype)]) + doctype
    return header + bytes(range(256)) * 8
