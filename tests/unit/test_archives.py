"""Archive listings: totals, and every hostile structure detected without extracting anything."""

import json
from dataclasses import replace

import pytest

from fileflow_stages._runtime.content import ArchiveBombError, CorruptFileError, UnsafeArchiveError
from fileflow_stages._runtime.limits import Limits
from fileflow_stages.archive.archives import LISTING_DERIVATIVE, escapes, list_tar, list_zip
from tests import samples

LIMITS = Limits()


def test_zip_listing_with_totals() -> None:
    # Given a ZIP with two files
    analysis = list_zip(samples.zip_file(), LIMITS)
    # Then entries and totals are reported, and the full listing is a derivative
    assert analysis.result | {
        "archive_format": "zip",
        "entries": 2,
        "files": 2,
        "total_uncompressed_bytes": 14,
    } == (analysis.result)
    [listing] = analysis.derivatives
    assert listing.name == LISTING_DERIVATIVE
    paths = [entry["path"] for entry in json.loads(listing.body)["entries"]]
    assert paths == ["docs/readme.txt", "data/values.csv"]
    assert analysis.findings == []


@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz"])
def test_tar_listing_in_every_compression(compression: str) -> None:
    data = samples.tar_file(compression=compression)
    label = f"tar.{compression}" if compression else "tar"
    analysis = list_tar(data, label, LIMITS)
    assert analysis.result["archive_format"] == label
    assert analysis.result["files"] == 2
    assert analysis.result["total_uncompressed_bytes"] == 14


def test_zip_bomb_is_refused_from_its_directory() -> None:
    # Given 20 MiB of zeros deflated to ~20 KB
    with pytest.raises(ArchiveBombError, match=r"expands \d+x"):
        list_zip(samples.zip_bomb(), LIMITS)


def test_zip_over_the_total_limit_is_refused() -> None:
    with pytest.raises(ArchiveBombError, match="bytes uncompressed"):
        list_zip(samples.zip_file(), replace(LIMITS, max_archive_uncompressed_bytes=10))


def test_zip_over_the_entry_limit_is_refused() -> None:
    with pytest.raises(ArchiveBombError, match="2 entries"):
        list_zip(samples.zip_file(), replace(LIMITS, max_archive_entries=1))


def test_overlapping_entries_are_a_bomb() -> None:
    with pytest.raises(ArchiveBombError, match="overlap"):
        list_zip(samples.overlapping_zip(), LIMITS)


def test_tar_gz_bomb_stops_inflating_at_the_ratio_limit() -> None:
    with pytest.raises(ArchiveBombError, match="expands over 100x"):
        list_tar(samples.tar_bomb(), "tar.gz", LIMITS)


@pytest.mark.parametrize(
    ("make", "lister"),
    [
        (samples.zip_slip, list_zip),
        (lambda: samples.tar_slip(), lambda data, limits: list_tar(data, "tar", limits)),
    ],
    ids=["zip", "tar"],
)
def test_zip_slip_is_refused_naming_the_entry(make: object, lister: object) -> None:
    with pytest.raises(UnsafeArchiveError, match="escapes the extraction directory") as raised:
        lister(make(), LIMITS)  # type: ignore[operator]
    assert "etc" in str(raised.value)


@pytest.mark.parametrize(
    ("path", "unsafe"),
    [
        ("docs/a.txt", False),
        ("a/../b.txt", True),
        ("../b.txt", True),
        ("/etc/passwd", True),
        ("C:/Windows/x", True),
        ("..\\..\\evil.exe", True),
        ("dots..in..name", False),
    ],
)
def test_escaping_paths(path: str, unsafe: bool) -> None:
    assert escapes(path) is unsafe


def test_symlinks_inside_the_archive_need_review() -> None:
    analysis = list_zip(samples.zip_with_symlink("docs/readme.txt"), LIMITS)
    assert [finding.code for finding in analysis.findings] == ["Symlinks"]
    assert analysis.result["symlinks"] == 1


def test_symlinks_pointing_outside_are_refused() -> None:
    with pytest.raises(UnsafeArchiveError, match="link target"):
        list_zip(samples.zip_with_symlink("../../etc/passwd"), LIMITS)
    with pytest.raises(UnsafeArchiveError, match="link target"):
        list_tar(samples.tar_file(symlinks={"docs/link": "../../../etc/shadow"}), "tar", LIMITS)


def test_encrypted_entries_are_reported_not_read() -> None:
    analysis = list_zip(samples.zip_with_encrypted_entry(), LIMITS)
    assert analysis.result["encrypted_entries"] == 1
    assert [finding.code for finding in analysis.findings] == ["EncryptedEntries"]


def test_nested_archives_are_reported_not_opened() -> None:
    analysis = list_zip(samples.nested_zip(), LIMITS)
    assert analysis.result["nested_archives"] == 1
    [finding] = analysis.findings
    assert finding.code == "NestedArchives"
    assert "inner.zip" in finding.message


@pytest.mark.parametrize(
    ("data", "lister"),
    [
        (samples.zip_file()[:-30], list_zip),
        (samples.tar_file(compression="gz")[:60], lambda data, limits: list_tar(data, "tar.gz", limits)),
    ],
    ids=["zip", "tar.gz"],
)
def test_truncated_archives_fail_with_a_reason(data: bytes, lister: object) -> None:
    with pytest.raises(CorruptFileError, match="malformed"):
        lister(data, LIMITS)  # type: ignore[operator]
