"""The local record of an upload in progress, so that a later process can resume it.

One small JSON file per (path, size, mtime): ``~/.cache/fileflow/uploads/<sha256>.json``
(``$XDG_CACHE_HOME`` is honoured). It holds the upload id and what the upload was planned for; the
parts themselves are asked of the storage (ListParts), which is the only source of truth.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fileflow_client.localfile import FileIdentity

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class UploadState:
    api_url: str
    upload_id: str
    file_id: str
    key: str
    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    content_type: str
    part_size: int
    part_count: int
    # "SHA256" or "CRC32C" when the upload was initiated with per-part checksums: then every part needs one
    checksum_algorithm: str | None = None
    version: int = STATE_VERSION

    def describes(self, identity: FileIdentity, *, api_url: str) -> bool:
        """True when this record was made for this very file (same path, size, mtime) and API."""
        return (
            self.version == STATE_VERSION
            and self.api_url == api_url
            and self.path == str(identity.path)
            and self.size == identity.size
            and self.mtime_ns == identity.mtime_ns
        )


def default_state_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fileflow" / "uploads"


def default_state_path(identity: FileIdentity, state_dir: Path | None = None) -> Path:
    name = hashlib.sha256(f"{identity.path}\0{identity.size}\0{identity.mtime_ns}".encode()).hexdigest()
    return (state_dir or default_state_dir()) / f"{name}.json"


def load_state(path: Path) -> UploadState | None:
    """The record at `path`, or None if there is none or it is unreadable (then it is ignored)."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
        return UploadState(**raw) if isinstance(raw, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def save_state(path: Path, state: UploadState) -> None:
    """Written atomically (temporary file + rename): a crash leaves the old record or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(asdict(state), file, indent=2)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def delete_state(path: Path) -> None:
    path.unlink(missing_ok=True)
