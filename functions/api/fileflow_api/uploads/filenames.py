"""Client filenames: metadata only (never part of an S3 key), checked and reduced to a safe display name.

- Directory parts are dropped: browsers and CLIs send relative or Windows paths (`a/b.txt`,
  `C:\\x\\b.txt`), and `../../etc/passwd` becomes `passwd`; it names a file, it locates nothing.
- Refused (InvalidFilenameError): control characters (C0/C1, line and paragraph separators), bidi
  overrides and isolates (they disguise extensions: `invoice\u202efdp.exe`), lone surrogates, names
  that are empty, `.` or `..` once reduced, and names longer than 255 characters.
- Any other Unicode is kept, NFC-normalised (so `é` is one code point, whichever way it was typed).
"""

from __future__ import annotations

import re
import unicodedata

from fileflow_common.errors import FileflowError

MAX_FILENAME_LENGTH = 255

_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
# Explicit directional formatting characters: LRE RLE PDF LRO RLO, LRI RLI FSI PDI, and LRM RLM ALM.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_SEPARATORS = re.compile(r"[\\/]")


class InvalidFilenameError(FileflowError):
    code = "InvalidFilename"


def sanitize_filename(raw: str) -> str:
    """Return the name to store for `raw`, or raise InvalidFilenameError saying what is wrong with it."""
    name = unicodedata.normalize("NFC", raw)
    for character in name:
        if unicodedata.category(character) in _FORBIDDEN_CATEGORIES or character in _BIDI_CONTROLS:
            raise InvalidFilenameError(
                f"filename contains a control or bidi formatting character (U+{ord(character):04X})"
            )
    name = _SEPARATORS.split(name)[-1].strip()
    if name in {"", ".", ".."}:
        raise InvalidFilenameError("filename must name a file (it is empty once directories are dropped)")
    if len(name) > MAX_FILENAME_LENGTH:
        raise InvalidFilenameError(
            f"filename is {len(name)} characters long; the limit is {MAX_FILENAME_LENGTH}"
        )
    return name
