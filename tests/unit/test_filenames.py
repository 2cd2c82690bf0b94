import pytest

from fileflow_api.uploads.filenames import MAX_FILENAME_LENGTH, InvalidFilenameError, sanitize_filename


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        pytest.param("report.pdf", "report.pdf", id="plain"),
        pytest.param("../../etc/passwd", "passwd", id="path traversal"),
        pytest.param("..\\..\\windows\\system32\\cmd.exe", "cmd.exe", id="windows traversal"),
        pytest.param("C:\\Users\\ana\\photo.jpg", "photo.jpg", id="windows path"),
        pytest.param("photos/2026/summer.png", "summer.png", id="relative path"),
        pytest.param("  spaced out.txt  ", "spaced out.txt", id="outer whitespace"),
        pytest.param("résumé 📄.pdf", "résumé 📄.pdf", id="unicode kept"),
        pytest.param("re\u0301sume\u0301.pdf", "résumé.pdf", id="NFC: combining accents composed"),
        pytest.param("家族の写真.jpeg", "家族の写真.jpeg", id="CJK"),
        pytest.param("family 👨\u200d👩\u200d👧.png", "family 👨\u200d👩\u200d👧.png", id="ZWJ emoji kept"),
        pytest.param(".bashrc", ".bashrc", id="dotfile"),
        pytest.param("x" * MAX_FILENAME_LENGTH, "x" * MAX_FILENAME_LENGTH, id="255 characters"),
        pytest.param("d/" * 400 + "short.txt", "short.txt", id="long path, short name"),
    ],
)
def test_names_are_reduced_to_a_safe_display_name(raw: str, stored: str) -> None:
    assert sanitize_filename(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param("evil\x00.txt", "control", id="NUL"),
        pytest.param("line\nbreak.txt", "control", id="newline (header injection)"),
        pytest.param("carriage\r.txt", "control", id="carriage return"),
        pytest.param("tab\t.txt", "control", id="tab"),
        pytest.param("del\x7f.txt", "control", id="DEL"),
        pytest.param("c1\x85.txt", "control", id="C1 next line"),
        pytest.param("sep\u2028.txt", "control", id="line separator"),
        pytest.param("invoice\u202efdp.exe", "bidi", id="right-to-left override"),
        pytest.param("isolate\u2066.txt", "bidi", id="bidi isolate"),
        pytest.param("lone\ud800.txt", "control", id="lone surrogate"),
        pytest.param("", "empty", id="empty"),
        pytest.param("   ", "empty", id="blank"),
        pytest.param("uploads/", "empty", id="directory only"),
        pytest.param("..", "empty", id="dot dot"),
        pytest.param("a/b/.", "empty", id="dot"),
        pytest.param("x" * 1000, "1000 characters", id="1,000 characters"),
        pytest.param("é" * (MAX_FILENAME_LENGTH + 1), "256 characters", id="256 unicode characters"),
    ],
)
def test_hostile_names_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidFilenameError, match=reason):
        sanitize_filename(raw)
