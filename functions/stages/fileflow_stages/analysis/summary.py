"""The analysis stage's metadata summary: what a person (or the AI stage) reads first. No boto3 here.

Built from the content stage's result: the kind, the type, the size, and the few facts of each kind
that matter (an image's dimensions, a document's pages and words, an archive's entries, a video's
duration and resolution).
"""

from __future__ import annotations

from typing import Any, Final

# The facts of each kind's analysis that make up its summary, by the names the content stages use.
_HIGHLIGHTS: Final[dict[str, tuple[str, ...]]] = {
    "image": ("format", "width", "height", "animated", "frames", "has_alpha"),
    "document": ("pages", "words", "characters", "encrypted", "title"),
    "text": ("encoding", "lines", "words", "characters", "format"),
    "archive": ("format", "entries", "files", "directories", "total_uncompressed_bytes", "encrypted_entries"),
    "video": (
        "container",
        "duration_s",
        "width",
        "height",
        "video_codec",
        "audio_codec",
        "frame_rate",
        "bitrate",
    ),
}


def summarize(*, kind: str, detected_type: str, size: int, result: dict[str, Any]) -> dict[str, Any]:
    analysis = result.get("analysis") or {}
    highlights = {
        name: analysis[name] for name in _HIGHLIGHTS.get(kind, ()) if analysis.get(name) is not None
    }
    findings = result.get("findings") or []
    return {
        "kind": kind,
        "type": result.get("detected_type") or detected_type,
        "size_bytes": size,
        "derivatives": len(result.get("derivatives") or []),
        "findings": [finding.get("code") for finding in findings if isinstance(finding, dict)],
        "highlights": highlights,
    }
