"""A video -> an HLS ladder (H.264 + AAC in MPEG-TS, 4 s segments), a poster and a thumbnail. No boto3 here.

One ffmpeg run decodes the source once and encodes every rendition (split filter, hls muxer with a
var_stream_map); a second run seeks to the poster frame and writes the poster and the thumbnail. Outputs
are written with ffmpeg's working directory set to the work dir and bare names, so the playlists hold
relative URIs that the API can rewrite one by one. We write the master playlist ourselves: ffmpeg's
BANDWIDTH is derived from configured bitrates (and it drops a rendition that has none), ours is measured.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from fileflow_stages._runtime.content import CorruptFileError, LimitExceededError
from fileflow_stages.video.ffmpeg import THREADS, Ffmpeg, FfmpegRun
from fileflow_stages.video.limits import VideoLimits
from fileflow_stages.video.probe import VideoProbe, damage_in, input_args, probe_video

NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MASTER_PLAYLIST: Final = "hls-master.m3u8"
POSTER: Final = "poster.jpg"
THUMBNAIL: Final = "thumb-video.jpg"
PLAYLIST_TYPE: Final = "application/vnd.apple.mpegurl"
SEGMENT_TYPE: Final = "video/mp2t"
JPEG_TYPE: Final = "image/jpeg"
SEGMENT_S: Final = 4
MAX_FRAME_RATE: Final = 30.0  # the H.264 levels below allow 720p at 30 fps
THUMBNAIL_WIDTH: Final = 320
CRF: Final = 23
AUDIO_CODEC: Final = "mp4a.40.2"  # AAC-LC


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of the ladder: the box a frame fits in (a portrait 720p fits 720x1280), caps, H.264 level."""

    name: str
    long_side: int
    short_side: int
    maxrate_kbps: int
    audio_kbps: int
    level: int  # level_idc: 31 is level 3.1, whose frame size limit is a 1280x720 box


LADDER: Final = (Rung("720p", 1280, 720, 3000, 128, 31), Rung("360p", 640, 360, 900, 96, 30))


@dataclass(frozen=True, slots=True)
class PlannedRendition:
    rung: Rung
    width: int
    height: int

    @property
    def playlist(self) -> str:
        return f"hls-{self.rung.name}.m3u8"

    @property
    def video_codec(self) -> str:
        return f"avc1.4d40{self.rung.level:02x}"  # Main profile (constraint_set1), the rung's level


@dataclass(frozen=True, slots=True)
class Rendition:
    name: str
    width: int
    height: int
    bandwidth: int  # peak segment bitrate, bits per second (BANDWIDTH)
    average_bandwidth: int
    codecs: str
    playlist: str

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "width": self.width, "height": self.height, "bandwidth": self.bandwidth}


@dataclass(frozen=True, slots=True)
class OutputFile:
    name: str  # stored flat as derived/{user}/{file}/{name}
    path: Path
    content_type: str


@dataclass(frozen=True, slots=True)
class VideoResult:
    probe: VideoProbe
    master_playlist: str
    renditions: tuple[Rendition, ...]
    poster: str
    thumbnail: str
    files: tuple[OutputFile, ...]  # every file produced, playlists first

    def describe(self) -> dict[str, Any]:
        return {
            "video": self.probe.describe(),
            "hls": {"master": self.master_playlist, "renditions": [r.describe() for r in self.renditions]},
            "poster": self.poster,
            "thumbnail": self.thumbnail,
        }


def plan_ladder(width: int, height: int) -> tuple[PlannedRendition, ...]:
    """The rungs whose box the source fills without upscaling; a source below the last rung gets that one,
    at its own size (named after its short side, 240p for a 320x240)."""
    long, short = max(width, height), min(width, height)
    rungs = [rung for rung in LADDER if rung.short_side <= short]
    if not rungs:
        last = LADDER[-1]
        rungs = [replace(last, name=f"{_even(short * min(1.0, last.long_side / long), short)}p")]
    planned = []
    for rung in rungs:
        scale = min(1.0, rung.long_side / long, rung.short_side / short)
        planned.append(PlannedRendition(rung, _even(width * scale, width), _even(height * scale, height)))
    return tuple(planned)


def transcode_video(
    ffmpeg_executable: str | os.PathLike[str],
    source: Path,
    work_dir: Path,
    limits: VideoLimits | None = None,
) -> VideoResult:
    """Probe `source`, then write its HLS ladder, poster and thumbnail into `work_dir`.

    Raises CorruptFileError, UnsupportedTypeError or LimitExceededError for a bad file, RuntimeError when
    ffmpeg cannot run or the work dir cannot be written.
    """
    limits = limits or VideoLimits()
    if source.resolve().parent == work_dir.resolve() and source.name.startswith(("hls-", POSTER, THUMBNAIL)):
        raise ValueError(f"the source {source.name} would be overwritten by an output of the same name")
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        return _transcode(Ffmpeg(ffmpeg_executable, limits.ffmpeg_timeout_s), source, work_dir, limits)
    except OSError as exc:
        raise RuntimeError(f"cannot use the video work directory {work_dir}: {exc}") from exc


def _transcode(ffmpeg: Ffmpeg, source: Path, work_dir: Path, limits: VideoLimits) -> VideoResult:
    probe = probe_video(ffmpeg, source, limits)
    planned = plan_ladder(probe.width, probe.height)

    run = ffmpeg.run(_hls_args(probe, source, planned, limits), cwd=work_dir)
    _check_run(run, "transcode")
    renditions, segments, duration_s = _read_playlists(
        work_dir, planned, has_audio=probe.audio_codec is not None
    )
    if duration_s > limits.max_duration_s + 0.5:
        raise LimitExceededError(f"video lasts over {limits.max_duration_s:g} s (its header said otherwise)")
    _write_poster(ffmpeg, probe, source, work_dir, min(duration_s, probe.duration_s))
    _write_master(work_dir / MASTER_PLAYLIST, renditions)

    names = [MASTER_PLAYLIST, *(r.playlist for r in renditions)]
    files = [OutputFile(name, work_dir / name, PLAYLIST_TYPE) for name in names]
    files += [OutputFile(name, work_dir / name, SEGMENT_TYPE) for name in segments]
    files += [OutputFile(name, work_dir / name, JPEG_TYPE) for name in (POSTER, THUMBNAIL)]
    return VideoResult(probe, MASTER_PLAYLIST, tuple(renditions), POSTER, THUMBNAIL, tuple(files))


def _hls_args(
    probe: VideoProbe, source: Path, planned: tuple[PlannedRendition, ...], limits: VideoLimits
) -> list[str]:
    frame_rate = min(probe.frame_rate, MAX_FRAME_RATE)
    # Frame-rate conversion only above the cap; lower rates, variable ones included, pass as they are.
    rate_filter = f"fps={MAX_FRAME_RATE:g}," if probe.frame_rate > MAX_FRAME_RATE + 0.5 else ""
    branches = "".join(f"[s{i}]" for i in range(len(planned)))
    graph = [f"[0:V:0]{rate_filter}split={len(planned)}{branches}"]
    graph += [
        f"[s{i}]scale={p.width}:{p.height},setsar=1,format=yuv420p[v{i}]" for i, p in enumerate(planned)
    ]
    gop = str(max(1, round(SEGMENT_S * frame_rate)))
    # -t: a header that understates the duration cannot make us encode more than the limit (and a second).
    cap = f"{limits.max_duration_s + 1:.3f}"
    args = [*input_args(probe.container, source), "-loglevel", "error", "-t", cap]
    args += ["-filter_complex", ";".join(graph), "-filter_complex_threads", str(THREADS)]
    args += ["-map_metadata", "-1", "-map_chapters", "-1"]
    stream_map = []
    for i, rendition in enumerate(planned):
        args += ["-map", f"[v{i}]"]
        rung = rendition.rung
        args += [f"-maxrate:v:{i}", f"{rung.maxrate_kbps}k", f"-bufsize:v:{i}", f"{2 * rung.maxrate_kbps}k"]
        args += [f"-level:v:{i}", f"{rung.level / 10:.1f}"]
        if probe.audio_codec is not None:
            args += ["-map", "0:a:0", f"-b:a:{i}", f"{rung.audio_kbps}k"]
        stream_map.append(f"v:{i},a:{i},name:{rung.name}" if probe.audio_codec else f"v:{i},name:{rung.name}")
    args += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-crf", str(CRF)]
    # Keyframes on every 4 s boundary (also for variable frame rates), none elsewhere: segments cut at 4 s.
    args += ["-g", gop, "-keyint_min", gop, "-sc_threshold", "0"]
    args += ["-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_S})", "-threads", str(THREADS)]
    if probe.audio_codec is not None:
        args += ["-c:a", "aac", "-ac", "2"]
    args += ["-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod"]
    args += ["-hls_flags", "independent_segments", "-hls_segment_type", "mpegts"]
    args += ["-hls_segment_filename", "hls-%v-%05d.ts", "-var_stream_map", " ".join(stream_map)]
    return [*args, "-y", "hls-%v.m3u8"]


def _check_run(run: FfmpegRun, what: str) -> None:
    """A truncated source fails even when ffmpeg carried on (it exits 0 after a truncated MP4's last sample);
    other decoding errors in a run that completed are tolerated, as players tolerate them."""
    if "No space left on device" in run.log:
        raise RuntimeError("the video work directory is full")
    if reason := damage_in(run.log, truncation_only=run.returncode == 0):
        raise CorruptFileError(reason)
    if run.returncode != 0:
        lines = [line for line in run.log.splitlines() if line.strip()]
        detail = re.sub(r"^\[[^\]]*\] ", "", lines[-1])[:200] if lines else f"exit status {run.returncode}"
        raise CorruptFileError(f"video cannot be decoded ({what} failed): {detail}")


def _read_playlists(
    work_dir: Path, planned: tuple[PlannedRendition, ...], *, has_audio: bool
) -> tuple[list[Rendition], list[str], float]:
    """Each media playlist's segments (checked: bare names, present), measured bandwidths, the duration."""
    renditions: list[Rendition] = []
    all_segments: list[str] = []
    durations: list[float] = []
    for rendition in planned:
        try:
            lines = (work_dir / rendition.playlist).read_text().splitlines()
        except OSError as exc:
            raise CorruptFileError(
                f"video has no decodable frames ({rendition.playlist}: {exc.strerror})"
            ) from exc
        segments = _segments(work_dir, lines)
        if not segments:
            raise CorruptFileError("video has no decodable frames")
        total_s = sum(duration for _, duration, _ in segments)
        # Peak over full segments: the short last one (a keyframe and little else) would overstate it.
        full = segments[:-1] or segments
        peak = max(size * 8 / max(duration, 0.001) for _, duration, size in full)
        average = sum(size for _, _, size in segments) * 8 / max(total_s, 0.001)
        codecs = rendition.video_codec + (f",{AUDIO_CODEC}" if has_audio else "")
        renditions.append(
            Rendition(
                rendition.rung.name,
                rendition.width,
                rendition.height,
                math.ceil(peak),
                math.ceil(average),
                codecs,
                rendition.playlist,
            )
        )
        all_segments += [name for name, _, _ in segments]
        durations.append(total_s)
    return renditions, all_segments, max(durations)


def _segments(work_dir: Path, lines: list[str]) -> list[tuple[str, float, int]]:
    """(name, duration, size) of each segment a media playlist lists, checked: bare names, files present."""
    segments: list[tuple[str, float, int]] = []
    extinf: float | None = None
    for line in lines:
        if line.startswith("#EXTINF:"):
            extinf = _seconds(line.removeprefix("#EXTINF:").split(",", 1)[0])
        elif line and not line.startswith("#"):
            if extinf is None or not NAME_PATTERN.fullmatch(line) or not (work_dir / line).is_file():
                raise RuntimeError(f"ffmpeg wrote an unexpected playlist entry {line[:80]!r}")
            segments.append((line, extinf, (work_dir / line).stat().st_size))
            extinf = None
    return segments


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise RuntimeError(f"ffmpeg wrote an unreadable segment duration {text[:40]!r}") from None


def _write_poster(ffmpeg: Ffmpeg, probe: VideoProbe, source: Path, work_dir: Path, duration_s: float) -> None:
    """The poster (the source's displayed size) and the thumbnail, from one frame at ~10% of the video."""
    width = min(THUMBNAIL_WIDTH, probe.width)
    height = _even(probe.height * width / probe.width, probe.height)
    graph = f"[0:V:0]scale={probe.width}:{probe.height},setsar=1,split=2[p][t]"
    graph += f";[t]scale={width}:{height},setsar=1[th]"
    for seek_s in (max(duration_s * 0.1, min(1.0, duration_s / 2)), 0.0):
        for name in (POSTER, THUMBNAIL):
            (work_dir / name).unlink(missing_ok=True)
        args = [*input_args(probe.container, source, seek_s=seek_s), "-loglevel", "error"]
        args += ["-filter_complex", graph, "-map_metadata", "-1", "-threads", str(THREADS)]
        args += ["-map", "[p]", "-frames:v", "1", "-q:v", "3", "-update", "1", "-y", POSTER]
        args += ["-map", "[th]", "-frames:v", "1", "-q:v", "5", "-update", "1", "-y", THUMBNAIL]
        run = ffmpeg.run(args, cwd=work_dir)
        _check_run(run, "poster")
        if (work_dir / POSTER).is_file() and (work_dir / THUMBNAIL).is_file():
            return
    raise CorruptFileError("video has no decodable frame for a poster")


def _write_master(path: Path, renditions: list[Rendition]) -> None:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for r in renditions:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={r.bandwidth},AVERAGE-BANDWIDTH={r.average_bandwidth},"
            f'RESOLUTION={r.width}x{r.height},CODECS="{r.codecs}"'
        )
        lines.append(r.playlist)
    path.write_text("\n".join(lines) + "\n")


def _even(value: float, most: int) -> int:
    """The nearest even size (H.264's 4:2:0 needs them), never above `most` (the source's side)."""
    return max(2, min(round(value / 2) * 2, most // 2 * 2))
