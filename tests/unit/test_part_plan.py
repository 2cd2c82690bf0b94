import random

import pytest

from fileflow_api.uploads.part_plan import (
    S3_MAX_OBJECT_SIZE,
    S3_MAX_PART_SIZE,
    S3_MAX_PARTS,
    S3_MIN_PART_SIZE,
    GiB,
    MiB,
    TiB,
    plan_parts,
)

PREFERRED = 8 * MiB


def assert_valid_for_s3(size: int, part_size: int, part_count: int) -> None:
    assert S3_MIN_PART_SIZE <= part_size <= S3_MAX_PART_SIZE
    assert part_size % MiB == 0
    assert 1 <= part_count <= S3_MAX_PARTS
    # every byte is in exactly one part, and the last part is not empty
    assert (part_count - 1) * part_size < size <= part_count * part_size


@pytest.mark.parametrize(
    ("size", "part_size", "part_count"),
    [
        pytest.param(1, PREFERRED, 1, id="one byte"),
        pytest.param(16 * MiB, PREFERRED, 2, id="exactly two preferred parts"),
        pytest.param(16 * MiB + 1, PREFERRED, 3, id="one byte into a third part"),
        pytest.param(1 * GiB, PREFERRED, 128, id="1 GiB"),
        pytest.param(S3_MAX_PARTS * PREFERRED, PREFERRED, S3_MAX_PARTS, id="10,000 preferred parts exactly"),
        pytest.param(S3_MAX_PARTS * PREFERRED + 1, 9 * MiB, 8889, id="one byte over: the part size grows"),
        pytest.param(S3_MAX_OBJECT_SIZE, 525 * MiB, 9987, id="5 TiB"),
        pytest.param(S3_MAX_OBJECT_SIZE - 1, 525 * MiB, 9987, id="5 TiB minus one byte"),
    ],
)
def test_plan_fits_s3_limits(size: int, part_size: int, part_count: int) -> None:
    # Given a file size / When planned with the preferred 8 MiB parts
    plan = plan_parts(size, preferred_part_size=PREFERRED)
    # Then the part size and count are the expected ones, within S3's limits
    assert (plan.part_size, plan.part_count) == (part_size, part_count)
    assert_valid_for_s3(size, plan.part_size, plan.part_count)


def test_part_lengths_add_up_and_the_last_holds_the_remainder() -> None:
    # Given a 5 TiB plan
    plan = plan_parts(5 * TiB, preferred_part_size=PREFERRED)
    # When asking each part's length
    lengths = [plan.part_length(n) for n in (1, plan.part_count - 1, plan.part_count)]
    # Then all but the last are full, and the sizes add up to the file
    assert lengths[:2] == [plan.part_size, plan.part_size]
    assert (plan.part_count - 1) * plan.part_size + lengths[2] == 5 * TiB
    assert 0 < lengths[2] <= plan.part_size
    with pytest.raises(ValueError, match="outside"):
        plan.part_length(plan.part_count + 1)


def test_random_sizes_always_make_a_valid_plan() -> None:
    # Given many sizes across the whole range (seeded: reproducible)
    rng = random.Random(20261121)
    sizes = [rng.randint(1, S3_MAX_OBJECT_SIZE) for _ in range(2000)]
    for size in sizes:
        # When planned / Then valid for S3
        plan = plan_parts(size, preferred_part_size=PREFERRED)
        assert_valid_for_s3(size, plan.part_size, plan.part_count)


@pytest.mark.parametrize("size", [0, S3_MAX_OBJECT_SIZE + 1, -1])
def test_sizes_s3_cannot_hold_as_multipart_are_refused(size: int) -> None:
    with pytest.raises(ValueError, match="1 byte to 5 TiB"):
        plan_parts(size, preferred_part_size=PREFERRED)


@pytest.mark.parametrize("preferred", [S3_MIN_PART_SIZE - 1, S3_MAX_PART_SIZE + 1])
def test_preferred_part_size_outside_s3_limits_is_refused(preferred: int) -> None:
    with pytest.raises(ValueError, match="preferred part size"):
        plan_parts(GiB, preferred_part_size=preferred)


def test_unaligned_preferred_size_is_rounded_up_to_a_mib() -> None:
    plan = plan_parts(100 * MiB, preferred_part_size=5 * MiB + 1)
    assert plan.part_size == 6 * MiB
