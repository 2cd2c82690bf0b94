"""The video stage's domain code: probing, the HLS ladder, poster and thumbnail, and the guards.

Every clip is made here by the bundled static ffmpeg (lavfi testsrc2 + sine), a few seconds long.
That ffmpeg dies (SIGSEGV) demuxing MPEG-TS on some CPUs, so segments are checked from their bytes.
"""

import itertools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

from fileflow_stages._runtime.content import CorruptFileError, LimitExceededError, UnsupportedTypeError
from fileflow_stages.video.ffmpeg import LOG_HEAD_BYTES, LOG_TAIL_BYTES, Ffmpeg
from fileflow_stages.video.limits import VideoLimits
from fileflow_stages.video.probe import container_of, probe_video
from fileflow_stages.video.transcode import NAME_PATTERN, VideoResult, plan_ladder, transcode_video

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".jpg": "image/jpeg"}


def _ffmpeg(*args: str | Path) -> None:
    command = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    subprocess.run(command, check=True, timeout=120)


def _video(size: str, rate: int, seconds: int) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]


def _tone(seconds: int) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]


def _has_encoder(name: str) -> bool:
    listing = subprocess.run(
        [FFMPEG, "-hide_banner", "-encoders"], capture_output=True, text=True, check=True
    )
    return re.search(rf"^ \S+ {re.escape(name)} ", listing.stdout, re.MULTILINE) is not None


@dataclass(frozen=True)
class Clips:
    hd: Path  # 1280x720, 30 fps, 3 s, AAC: two renditions
    silent: Path  # 640x360, 25 fps, 5 s, no audio, moov first: one rendition, two segments
    webm: Path  # 640x360 VP9 + Opus, 2 s


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    directory = tmp_path_factory.mktemp("clips")
    h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    _ffmpeg(*_video("1280x720", 30, 3), *_tone(3), *h264, "-c:a", "aac", directory / "hd.mp4")
    _ffmpeg(*_video("640x360", 25, 5), *h264, "-movflags", "+faststart", directory / "silent.mp4")
    vp9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"]
    if _has_encoder("libvpx-vp9"):
        _ffmpeg(*_video("640x360", 25, 2), *_tone(2), *vp9, "-c:a", "libopus", directory / "clip.webm")
    return Clips(directory / "hd.mp4", directory / "silent.mp4", directory / "clip.webm")


@pytest.fixture(scope="module")
def hd(clips: Clips, tmp_path_factory: pytest.TempPathFactory) -> VideoResult:
    return transcode_video(FFMPEG, clips.hd, tmp_path_factory.mktemp("hd"))


@pytest.fixture(scope="module")
def silent(clips: Clips, tmp_path_factory: pytest.TempPathFactory) -> VideoResult:
    return transcode_video(FFMPEG, clips.silent, tmp_path_factory.mktemp("silent"))


def _work_dir(result: VideoResult) -> Path:
    return result.files[0].path.parent


def _stream_infs(result: VideoResult) -> list[tuple[dict[str, str], str]]:
    """(attributes, URI) of each #EXT-X-STREAM-INF of the master playlist."""
    lines = (_work_dir(result) / result.master_playlist).read_text().splitlines()
    assert lines[0] == "#EXTM3U"
    entries = []
    for tag, uri in itertools.pairwise(lines):
        if tag.startswith("#EXT-X-STREAM-INF:"):
            attributes = re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', tag.removeprefix("#EXT-X-STREAM-INF:"))
            entries.append(({key: value.strip('"') for key, value in attributes}, uri))
    return entries


def _media_playlist(result: VideoResult, playlist: str) -> tuple[int, list[tuple[float, str]]]:
    """The target duration and the (duration, URI) of each segment of a media playlist."""
    lines = (_work_dir(result) / playlist).read_text().splitlines()
    [target] = [int(line.split(":")[1]) for line in lines if line.startswith("#EXT-X-TARGETDURATION:")]
    assert lines[-1] == "#EXT-X-ENDLIST"
    segments = [
        (float(tag.removeprefix("#EXTINF:").split(",")[0]), uri)
        for tag, uri in itertools.pairwise(lines)
        if tag.startswith("#EXTINF:")
    ]
    return target, segments


def _sps_codec(segment: Path) -> str:
    """avc1.PPCCLL from the first H.264 sequence parameter set (NAL type 7) of an MPEG-TS segment."""
    data = segment.read_bytes()
    assert data[0] == data[188] == 0x47  # MPEG-TS sync bytes
    match = re.search(rb"\x00\x00\x01\x67(...)", data, re.DOTALL)
    assert match is not None
    return f"avc1.{match.group(1).hex()}"


# The ladder


def test_a_720p_source_gets_a_720p_and_a_360p_rendition_in_the_master_playlist(hd: VideoResult) -> None:
    # Given a 1280x720 clip with audio / When transcoded / Then the master lists both, largest first
    entries = _stream_infs(hd)
    assert [(a["RESOLUTION"], uri) for a, uri in entries] == [
        ("1280x720", "hls-720p.m3u8"),
        ("640x360", "hls-360p.m3u8"),
    ]
    assert [a["CODECS"] for a, _ in entries] == ["avc1.4d401f,mp4a.40.2", "avc1.4d401e,mp4a.40.2"]
    assert [int(a["BANDWIDTH"]) for a, _ in entries] == [r.bandwidth for r in hd.renditions]
    assert [(r.name, r.width, r.height) for r in hd.renditions] == [("720p", 1280, 720), ("360p", 640, 360)]
    assert hd.renditions[0].bandwidth > hd.renditions[1].bandwidth > 100_000


def test_media_playlists_list_present_segments_of_at_most_6_seconds(hd: VideoResult) -> None:
    for rendition in hd.renditions:
        target, segments = _media_playlist(hd, rendition.playlist)
        assert 1 <= target <= 6
        assert segments
        assert sum(duration for duration, _ in segments) == pytest.approx(3.0, abs=0.2)
        for duration, uri in segments:
            assert duration <= target
            assert NAME_PATTERN.fullmatch(uri)
            assert uri.startswith(f"hls-{rendition.name}-")
            assert (_work_dir(hd) / uri).stat().st_size > 0
        # The CODECS attribute is what the encoder wrote: Main profile, the rendition's level.
        assert _sps_codec(_work_dir(hd) / segments[0][1]) == rendition.codecs.split(",")[0]


def test_files_list_every_output_with_a_flat_name_and_its_content_type(hd: VideoResult) -> None:
    names = [f.name for f in hd.files]
    assert len(names) == len(set(names))
    assert {f.path.name for f in hd.files} == {path.name for path in _work_dir(hd).iterdir()}
    assert {"hls-master.m3u8", "hls-720p.m3u8", "hls-360p.m3u8", "poster.jpg", "thumb-video.jpg"} <= set(
        names
    )
    for output in hd.files:
        assert NAME_PATTERN.fullmatch(output.name)
        assert output.content_type == CONTENT_TYPES[output.path.suffix]
        assert output.path.is_file()


def test_the_poster_has_the_source_size_and_the_thumbnail_is_320_wide(hd: VideoResult) -> None:
    with Image.open(_work_dir(hd) / hd.poster) as poster:
        assert (poster.format, poster.size) == ("JPEG", (1280, 720))
    with Image.open(_work_dir(hd) / hd.thumbnail) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (320, 180))


def test_the_probe_records_duration_size_codecs_rate_and_bitrate(hd: VideoResult) -> None:
    probe = hd.probe
    assert probe.duration_s == pytest.approx(3.0, abs=0.2)
    assert (probe.container, probe.width, probe.height, probe.rotation) == ("mp4", 1280, 720, 0)
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")
    assert probe.frame_rate == pytest.approx(30.0)
    assert probe.bitrate > 100_000
    assert hd.describe()["video"]["duration_s"] == pytest.approx(3.0, abs=0.2)


def test_a_silent_360p_source_gets_one_rendition_without_aac_cut_at_4_seconds(silent: VideoResult) -> None:
    # Given a 640x360, 5 s clip with no audio track
    assert silent.probe.audio_codec is None
    # Then one rendition, at the source's size (never upscaled), and CODECS names no audio
    [(attributes, uri)] = _stream_infs(silent)
    assert (attributes["RESOLUTION"], attributes["CODECS"], uri) == (
        "640x360",
        "avc1.4d401e",
        "hls-360p.m3u8",
    )
    # And keyframes every 4 s cut the segments there
    target, segments = _media_playlist(silent, uri)
    assert target == 4
    assert [round(duration, 2) for duration, _ in segments] == [4.0, 1.0]
    with Image.open(_work_dir(silent) / silent.poster) as poster:
        assert poster.size == (640, 360)


def test_a_webm_source_is_transcoded(clips: Clips, tmp_path: Path) -> None:
    # The pinned imageio-ffmpeg ships libvpx-vp9: a build without it is a broken install, not a skip
    assert clips.webm.exists(), "this ffmpeg has no libvpx-vp9 encoder to make the WebM clip"
    result = transcode_video(FFMPEG, clips.webm, tmp_path)
    probe = result.probe
    assert (probe.container, probe.video_codec, probe.audio_codec) == ("webm", "vp9", "opus")
    assert (probe.width, probe.height, probe.frame_rate) == (640, 360, 25.0)
    assert probe.duration_s == pytest.approx(2.0, abs=0.2)
    assert [(a["RESOLUTION"], a["CODECS"]) for a, _ in _stream_infs(result)] == [
        ("640x360", "avc1.4d401e,mp4a.40.2")
    ]


def test_a_webm_without_a_duration_is_measured_and_a_small_one_keeps_its_size(tmp_path: Path) -> None:
    # Given a live-style WebM (as MediaRecorder writes: no Duration in its header), 320x240
    assert _has_encoder("libvpx"), "this ffmpeg has no libvpx encoder to make the WebM clip"
    source = tmp_path / "live.webm"
    vp8 = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
    _ffmpeg(*_video("320x240", 25, 2), *vp8, "-f", "webm", "-live", "1", source)
    # When transcoded
    result = transcode_video(FFMPEG, source, tmp_path / "out")
    # Then the duration comes from its packets, and the one rendition is the source's size
    assert result.probe.duration_s == pytest.approx(2.0, abs=0.2)
    assert [(r.name, r.width, r.height) for r in result.renditions] == [("240p", 320, 240)]


def test_a_rotated_source_is_probed_with_its_displayed_size(clips: Clips, tmp_path: Path) -> None:
    # Given the 1280x720 clip with a display matrix turning it a quarter (a phone held upright)
    source = tmp_path / "rotated.mp4"
    _ffmpeg("-display_rotation", "90", "-i", clips.hd, "-c", "copy", source)
    probe = probe_video(Ffmpeg(FFMPEG, budget_s=60), source, VideoLimits())
    assert (probe.width, probe.height, probe.rotation) == (720, 1280, 270)
    assert [(r.rung.name, r.width, r.height) for r in plan_ladder(probe.width, probe.height)] == [
        ("720p", 720, 1280),
        ("360p", 360, 640),
    ]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), [("720p", 1280, 720), ("360p", 640, 360)]),
        ((1280, 720), [("720p", 1280, 720), ("360p", 640, 360)]),
        ((854, 480), [("360p", 640, 360)]),
        ((1080, 1920), [("720p", 720, 1280), ("360p", 360, 640)]),
        ((320, 240), [("240p", 320, 240)]),
        ((101, 51), [("50p", 100, 50)]),
        ((2560, 720), [("720p", 1280, 360), ("360p", 640, 180)]),
        ((1600, 200), [("80p", 640, 80)]),
    ],
)
def test_the_ladder_never_upscales_and_always_has_a_rendition(
    size: tuple[int, int], expected: list[tuple[str, int, int]]
) -> None:
    assert [(p.rung.name, p.width, p.height) for p in plan_ladder(*size)] == expected


# The guards


@pytest.mark.parametrize(
    ("head", "container"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "mov"),
        (b"\x00\x00\x00\x1cftypM4V \x00\x00\x00\x01", "m4v"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", None),
        (b"\x89PNG\r\n\x1a\n", None),
    ],
)
def test_container_of_reads_the_magic_bytes(head: bytes, container: str | None) -> None:
    assert container_of(head) == container


def test_a_truncated_mp4_is_corrupt(clips: Clips, tmp_path: Path) -> None:
    # Given the clip cut in half (its moov atom, written last, is gone)
    data = clips.hd.read_bytes()
    (source := tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated or corrupt: moov atom not found"):
        transcode_video(FFMPEG, source, tmp_path / "out")


def test_a_truncated_mp4_with_its_moov_first_is_corrupt(clips: Clips, tmp_path: Path) -> None:
    # Given a faststart clip cut in half: its header opens, its media data ends early (ffmpeg exits 0)
    data = clips.silent.read_bytes()
    (source := tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated"):
        transcode_video(FFMPEG, source, tmp_path / "out")


def test_random_bytes_are_corrupt(tmp_path: Path) -> None:
    (source := tmp_path / "noise.mp4").write_bytes(bytes(range(256)) * 64)
    with pytest.raises(CorruptFileError, match="not a video"):
        transcode_video(FFMPEG, source, tmp_path / "out")


def test_an_mp4_without_video_is_unsupported(tmp_path: Path) -> None:
    _ffmpeg(*_tone(1), "-c:a", "aac", source := tmp_path / "audio.mp4")
    with pytest.raises(UnsupportedTypeError, match="no video stream"):
        transcode_video(FFMPEG, source, tmp_path / "out")


def test_metadata_imitating_ffmpegs_dump_is_refused(clips: Clips, tmp_path: Path) -> None:
    # Given a metadata key holding a fake Duration and Stream line (the dump prints keys verbatim)
    fake = (
        "x\n  Duration: 00:00:01.00, start: 0.000000, bitrate: 1 kb/s\n  Stream #0:0: Video: h264, 64x64\ny"
    )
    source = tmp_path / "hostile.mp4"
    _ffmpeg(
        "-i", clips.silent, "-c", "copy", "-movflags", "use_metadata_tags", "-metadata", f"{fake}=z", source
    )
    with pytest.raises(CorruptFileError, match="ambiguous"):
        transcode_video(FFMPEG, source, tmp_path / "out")


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (VideoLimits(max_duration_s=2.0), "lasts 3.0 s, over the 2 s limit"),
        (VideoLimits(max_dimension=1024), "1280x720, over the 1024-pixel side"),
        (VideoLimits(max_pixels=640 * 360), "or 230400-pixel frame limit"),
        (VideoLimits(max_input_bytes=1000), "over the 1000-byte limit"),
    ],
)
def test_a_source_over_a_limit_is_refused_before_transcoding(
    clips: Clips, tmp_path: Path, limits: VideoLimits, message: str
) -> None:
    with pytest.raises(LimitExceededError, match=message):
        transcode_video(FFMPEG, clips.hd, tmp_path / "out", limits)
    assert not list((tmp_path / "out").iterdir())


# Running ffmpeg


def _fake_ffmpeg(directory: Path, script: str) -> Path:
    path = directory / "ffmpeg"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def test_a_missing_ffmpeg_is_an_environment_fault(clips: Clips, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="cannot run ffmpeg"):
        transcode_video(tmp_path / "no-such-ffmpeg", clips.hd, tmp_path / "out")


def test_a_run_over_the_time_budget_is_killed(tmp_path: Path) -> None:
    ffmpeg = Ffmpeg(_fake_ffmpeg(tmp_path, "exec sleep 60"), budget_s=0.5)
    with pytest.raises(LimitExceededError, match=r"exceeded its 0\.5 s time budget"):
        ffmpeg.run([], cwd=tmp_path)


def test_a_crashing_ffmpeg_is_an_environment_fault(tmp_path: Path) -> None:
    ffmpeg = Ffmpeg(_fake_ffmpeg(tmp_path, "kill -SEGV $$"), budget_s=30)
    with pytest.raises(RuntimeError, match="SIGSEGV"):
        ffmpeg.run([], cwd=tmp_path)


def test_the_log_kept_in_memory_is_bounded(tmp_path: Path) -> None:
    # Given an ffmpeg that writes 8 MB to stderr
    ffmpeg = Ffmpeg(_fake_ffmpeg(tmp_path, "head -c 8000000 /dev/zero | tr '\\0' x >&2"), budget_s=30)
    run = ffmpeg.run([], cwd=tmp_path)
    # Then only its head and tail are kept
    assert run.returncode == 0
    assert run.log_truncated
    assert LOG_HEAD_BYTES + LOG_TAIL_BYTES <= len(run.log) < LOG_HEAD_BYTES + LOG_TAIL_BYTES + 100
