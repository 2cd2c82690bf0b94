"""Probing a video with the ffmpeg executable alone (the imageio-ffmpeg wheel ships no ffprobe).

How: `ffmpeg -f <demuxer> -i file:<path>` with no output opens the input, prints its header dump
("Input #0", "Duration:", one "Stream #0:n" line per stream) at the info level and exits with 1 ("At least
one output file must be specified"); nothing is decoded. The demuxer is forced from the magic bytes (mov
for ftyp, matroska for EBML), so a hostile file cannot pose as an HLS playlist or a concat script, and
`-protocol_whitelist file` keeps ffmpeg off the network. A WebM without a Duration (as MediaRecorder
writes them) is measured by copying its video packets to the null muxer (`-progress`: last timestamp).

The dump prints metadata keys verbatim, so a file can imitate lines of it (a key holding
"\\n  Duration: ..."): the parser accepts only a dump whose structure is unambiguous (one Duration line,
stream lines after it, indices 0, 1, 2, ... in order), and the transcode re-checks the duration it
actually produced.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from fileflow_stages._runtime.content import CorruptFileError, LimitExceededError, UnsupportedTypeError
from fileflow_stages.video.ffmpeg import LOG_HEAD_BYTES, THREADS, Ffmpeg
from fileflow_stages.video.limits import VideoLimits

# Codecs that MP4, MOV and WebM carry in practice and this ffmpeg decodes.
VIDEO_CODECS: Final = frozenset(
    {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mpeg1video", "h263", "prores", "mjpeg"}
)
AUDIO_CODECS: Final = frozenset(
    {"aac", "mp3", "mp2", "opus", "vorbis", "ac3", "eac3", "alac", "flac", "amr_nb", "amr_wb"}
)
_DEMUXERS: Final = {"mp4": "mov", "mov": "mov", "m4v": "mov", "webm": "matroska", "mkv": "matroska"}
# ISO base media brands of still images and audio: an ftyp box, but no video to transcode.
_NOT_VIDEO_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
    | {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
)
# QuickTime files older than the ftyp box start with one of these atoms.
_QUICKTIME_ATOMS: Final = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip"})
_EBML: Final = b"\x1a\x45\xdf\xa3"
HEAD_BYTES: Final = 64

# Markers in ffmpeg's log of a file that is cut short or not what its header says, and what they mean.
TRUNCATION_MARKERS: Final = (
    ("partial file", "video is truncated: its media data ends before its sample tables do"),
    ("File ended prematurely", "video is truncated: the file ended prematurely"),
)
DAMAGE_MARKERS: Final = (
    ("moov atom not found", "video is truncated or corrupt: moov atom not found"),
    *TRUNCATION_MARKERS,
    ("EBML header parsing failed", "video is corrupt: its WebM (EBML) header cannot be parsed"),
    (
        "Invalid data found when processing input",
        "video is corrupt or not a video: ffmpeg found invalid data",
    ),
)

_INPUT = re.compile(r"^Input #\d+, ([\w,]+), from ", re.MULTILINE)
_DURATION_LINE = re.compile(r"^  Duration: (.*)$", re.MULTILINE)
_DURATION = re.compile(r"(?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A), start: [^,]+, bitrate: (?:(\d+) kb/s|N/A)")
_STREAM_LINE = re.compile(r"^  Stream #.*$", re.MULTILINE)
_STREAM = re.compile(r"  Stream #0:(\d+)(?:\[0x[0-9a-f]+\])?(?:\([A-Za-z0-9-]{1,35}\))?: (\w+): (.+)")
_SIZE = re.compile(r"(?:^|, )(\d+)x(\d+)(?=[ ,]|$)")
_SAR = re.compile(r"SAR (\d+):(\d+)")
_RATE = re.compile(r", (\d+(?:\.\d+)?)(k?) (fps|tbr)\b")
_ROTATION = re.compile(r"^ {4,}displaymatrix: rotation of (-?\d+(?:\.\d+)?) degrees", re.MULTILINE)
_OUT_TIME = re.compile(r"^out_time_us=(\d+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class VideoProbe:
    container: str  # mp4, mov, m4v, webm or mkv
    duration_s: float
    width: int  # as displayed: rotation and pixel aspect ratio applied
    height: int
    video_codec: str
    audio_codec: str | None
    bitrate: int  # bits per second, of the whole file
    frame_rate: float  # frames per second (the average, for variable frame rates)
    rotation: int = 0  # degrees clockwise, a multiple of 90; ffmpeg turns frames upright as it transcodes

    def describe(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "duration_s": round(self.duration_s, 3),
            "width": self.width,
            "height": self.height,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "bitrate": self.bitrate,
            "frame_rate": round(self.frame_rate, 3),
            "rotation": self.rotation,
        }


@dataclass(frozen=True, slots=True)
class _Stream:
    kind: str
    codec: str
    description: str
    block: str  # the lines under the stream line (metadata, side data)


def container_of(head: bytes) -> str | None:
    """mp4, mov, m4v, webm or mkv from a file's first bytes; None when they are not a video container."""
    if head.startswith(_EBML):
        return "webm" if b"webm" in head[:HEAD_BYTES] else "mkv" if b"matroska" in head[:HEAD_BYTES] else None
    box, brand = head[4:8], head[8:12]
    if box == b"ftyp":
        if brand in _NOT_VIDEO_BRANDS:
            return None
        return "mov" if brand == b"qt  " else "m4v" if brand.startswith(b"M4V") else "mp4"
    return "mov" if box in _QUICKTIME_ATOMS else None


def input_args(container: str, source: Path, *, seek_s: float | None = None) -> list[str]:
    """The options that open our source: forced demuxer, local files only, no external data references."""
    demuxer = _DEMUXERS[container]
    args = ["-threads", str(THREADS), "-protocol_whitelist", "file", "-f", demuxer]
    if demuxer == "mov":
        args += ["-enable_drefs", "0"]
    if seek_s is not None:
        args += ["-ss", f"{seek_s:.3f}"]
    return [*args, "-i", f"file:{source.resolve()}"]


def damage_in(log: str, *, truncation_only: bool = False) -> str | None:
    """The human reason a log shows the file truncated (or else corrupt), if it does."""
    markers = TRUNCATION_MARKERS if truncation_only else DAMAGE_MARKERS
    return next((reason for marker, reason in markers if marker in log), None)


def probe_video(ffmpeg: Ffmpeg, source: Path, limits: VideoLimits) -> VideoProbe:
    """The source's container, streams and duration, checked against the limits; decodes nothing."""
    try:
        size = source.stat().st_size
        with source.open("rb") as file:
            head = file.read(HEAD_BYTES)
    except OSError as exc:
        raise RuntimeError(f"cannot read the downloaded video {source}: {exc}") from exc
    if size == 0:
        raise CorruptFileError("video is empty")
    if size > limits.max_input_bytes:
        raise LimitExceededError(f"video is {size} bytes, over the {limits.max_input_bytes}-byte limit")
    container = container_of(head)
    if container is None:
        if head[4:8] == b"ftyp":
            brand = head[8:12].decode("ascii", errors="replace").strip()
            raise UnsupportedTypeError(f"an ISO media file of brand {brand!r} is not a video")
        raise CorruptFileError("not a video: no MP4/MOV (ftyp) or WebM (EBML) header")

    run = ffmpeg.run(input_args(container, source), cwd=source.parent)
    if run.log_truncated:
        raise LimitExceededError(
            f"video's header dump is over {LOG_HEAD_BYTES // 1024} KiB (too much metadata)"
        )
    duration_s, bitrate, streams = _parse_dump(run.log)
    if duration_s is None:
        duration_s = _measure_duration(ffmpeg, container, source, limits)
    probe = _describe(container, duration_s, bitrate or round(size * 8 / max(duration_s, 0.001)), streams)
    _check_limits(probe, limits)
    return probe


def _parse_dump(log: str) -> tuple[float | None, int | None, list[_Stream]]:
    inputs = _INPUT.findall(log)
    if not inputs:
        raise CorruptFileError(damage_in(log) or "not a video: ffmpeg cannot open it")
    durations = list(_DURATION_LINE.finditer(log))
    stream_lines = list(_STREAM_LINE.finditer(log))
    if (
        len(inputs) != 1
        or len(durations) != 1
        or (stream_lines and stream_lines[0].start() < durations[0].start())
    ):
        raise CorruptFileError("video's header is ambiguous: its metadata imitates ffmpeg's output")
    duration = _DURATION.fullmatch(durations[0].group(1))
    if duration is None:
        raise CorruptFileError(f"video's duration is unreadable: {durations[0].group(1)[:80]!r}")
    hours, minutes, seconds, kbps = duration.groups()
    duration_s = int(hours) * 3600 + int(minutes) * 60 + float(seconds) if hours else None

    streams: list[_Stream] = []
    for position, line in enumerate(stream_lines):
        stream = _STREAM.fullmatch(line.group(0))
        if stream is None or int(stream.group(1)) != position:
            raise CorruptFileError("video's stream list is ambiguous: its metadata imitates ffmpeg's output")
        end = stream_lines[position + 1].start() if position + 1 < len(stream_lines) else len(log)
        kind, description = stream.group(2), stream.group(3)
        codec = description.split(maxsplit=1)[0].rstrip(",")
        streams.append(_Stream(kind, codec, description, log[line.end() : end]))
    return duration_s, int(kbps) * 1000 if kbps else None, streams


def _describe(container: str, duration_s: float, bitrate: int, streams: list[_Stream]) -> VideoProbe:
    videos = [s for s in streams if s.kind == "Video" and "(attached pic)" not in s.description]
    if not videos:
        raise UnsupportedTypeError("file has no video stream")
    video = videos[0]
    if video.codec not in VIDEO_CODECS:
        raise UnsupportedTypeError(f"video codec {video.codec!r} is not supported")
    audios = [s for s in streams if s.kind == "Audio"]
    audio_codec = audios[0].codec if audios else None
    if audio_codec is not None and audio_codec not in AUDIO_CODECS and not audio_codec.startswith("pcm_"):
        raise UnsupportedTypeError(f"audio codec {audio_codec!r} is not supported")

    size = _SIZE.search(video.description)
    if size is None or min(int(size.group(1)), int(size.group(2))) < 1:
        raise CorruptFileError("video's frame size is unreadable")
    width, height = int(size.group(1)), int(size.group(2))
    sar = _SAR.search(video.description)
    if sar and int(sar.group(1)) > 0 and int(sar.group(2)) > 0 and sar.group(1) != sar.group(2):
        width = max(1, round(width * int(sar.group(1)) / int(sar.group(2))))
    rotations = _ROTATION.findall(video.block)
    if len(rotations) > 1:
        raise CorruptFileError("video's rotation is ambiguous: its metadata imitates ffmpeg's output")
    rotation = round(-float(rotations[0]) / 90) * 90 % 360 if rotations else 0
    if rotation in (90, 270):
        width, height = height, width

    rates = {unit: float(value) * (1000 if k else 1) for value, k, unit in _RATE.findall(video.description)}
    frame_rate = rates.get("fps") or rates.get("tbr")
    if not frame_rate or not math.isfinite(frame_rate):
        raise CorruptFileError("video's frame rate is unreadable")
    return VideoProbe(
        container=container,
        duration_s=duration_s,
        width=width,
        height=height,
        video_codec=video.codec,
        audio_codec=audio_codec,
        bitrate=bitrate,
        frame_rate=frame_rate,
        rotation=rotation,
    )


def _measure_duration(ffmpeg: Ffmpeg, container: str, source: Path, limits: VideoLimits) -> float:
    """The last video packet's timestamp: copies packets to the null muxer, decodes nothing."""
    args = [*input_args(container, source), "-t", f"{limits.max_duration_s + 1:.3f}", "-map", "0:V:0"]
    run = ffmpeg.run(
        [*args, "-c", "copy", "-f", "null", "-progress", "pipe:2", "-nostats", "-loglevel", "error", "-"],
        cwd=source.parent,
    )
    times = _OUT_TIME.findall(run.log)
    if run.returncode != 0 or not times or int(times[-1]) <= 0:
        raise CorruptFileError(damage_in(run.log) or "video has no readable video packets")
    return int(times[-1]) / 1_000_000


def _check_limits(probe: VideoProbe, limits: VideoLimits) -> None:
    if probe.duration_s > limits.max_duration_s:
        raise LimitExceededError(
            f"video lasts {probe.duration_s:.1f} s, over the {limits.max_duration_s:g} s limit"
        )
    if (
        max(probe.width, probe.height) > limits.max_dimension
        or probe.width * probe.height > limits.max_pixels
    ):
        raise LimitExceededError(
            f"video is {probe.width}x{probe.height}, over the {limits.max_dimension}-pixel side "
            f"or {limits.max_pixels}-pixel frame limit"
        )
