"""Client-side part planning and the resume decision (plain logic, no I/O)."""

import pytest

from fileflow_client.api import HeldPart
from fileflow_client.errors import ProtocolError
from fileflow_client.planning import PartSpec, decide_resume, plan_parts


def test_parts_cover_the_file_exactly_once_with_the_remainder_last():
    # Given a file of 2.5 parts / When planned / Then offsets are contiguous and the last part is short
    parts = plan_parts(25, part_size=10, part_count=3)
    assert parts == (PartSpec(1, 0, 10), PartSpec(2, 10, 10), PartSpec(3, 20, 5))


def test_an_exact_multiple_has_no_empty_last_part():
    assert plan_parts(20, part_size=10, part_count=2)[-1] == PartSpec(2, 10, 10)


def test_an_empty_file_is_one_empty_part():
    assert plan_parts(0, part_size=10, part_count=1) == (PartSpec(1, 0, 0),)


@pytest.mark.parametrize(("part_size", "part_count"), [(10, 2), (10, 4), (0, 3), (10, 0)])
def test_a_plan_that_does_not_fit_the_local_file_is_refused(part_size: int, part_count: int):
    # Given the API planned parts for another size than the local file's
    # When planned / Then the mismatch is a protocol error, never a silently wrong upload
    with pytest.raises(ProtocolError):
        plan_parts(25, part_size=part_size, part_count=part_count)


PLAN = plan_parts(25, part_size=10, part_count=3)
LOCAL = {1: "c1", 2: "c2", 3: "c3"}


def checksum_of(spec: PartSpec) -> str:
    return LOCAL[spec.number]


def test_only_parts_the_storage_lacks_are_sent():
    # Given the storage holds parts 1 and 3 with matching sizes and checksums
    held = [HeldPart(1, 10, "e1", "c1"), HeldPart(3, 5, "e3", "c3")]
    # When deciding
    decision = decide_resume(PLAN, held, local_checksum=checksum_of)
    # Then only part 2 is sent; 1 and 3 are kept with their ETags
    assert [spec.number for spec in decision.to_send] == [2]
    assert {n: p.etag for n, p in decision.reusable.items()} == {1: "e1", 3: "e3"}
    assert decision.replaced == ()


def test_a_held_part_of_another_size_is_sent_again():
    decision = decide_resume(PLAN, [HeldPart(1, 9, "e1", None)], local_checksum=checksum_of)
    assert [spec.number for spec in decision.to_send] == [1, 2, 3]
    assert decision.replaced == (1,)


def test_a_held_part_whose_checksum_is_not_the_local_datas_is_sent_again():
    decision = decide_resume(PLAN, [HeldPart(2, 10, "e2", "other")], local_checksum=checksum_of)
    assert [spec.number for spec in decision.to_send] == [1, 2, 3]
    assert decision.replaced == (2,)


def test_without_a_listed_checksum_the_size_decides_and_no_local_hash_is_computed():
    # Given held parts listed without checksums
    def must_not_hash(spec: PartSpec) -> str:
        raise AssertionError("hashed a part the listing gave no checksum for")

    decision = decide_resume(PLAN, [HeldPart(1, 10, "e1", None)], local_checksum=must_not_hash)
    assert list(decision.reusable) == [1]


def test_held_parts_outside_the_plan_are_ignored():
    decision = decide_resume(PLAN, [HeldPart(7, 10, "e7", None)], local_checksum=checksum_of)
    assert decision.reusable == {}
    assert len(decision.to_send) == 3
