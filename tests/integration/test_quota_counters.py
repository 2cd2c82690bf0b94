"""Per-user quotas: UserQuotas over the DynamoDB usage counters (moto), as the upload routes call it."""

from __future__ import annotations

import pytest

from fileflow_api.usage.counters import DynamoUsageCounters
from fileflow_api.usage.quotas import Quota, QuotaExceededError, Usage, UserQuotas
from tests.integration.conftest import Cloud

MB = 1024 * 1024


def quotas(cloud: Cloud, *, max_bytes: int = 10 * MB, max_files: int = 3) -> UserQuotas:
    return UserQuotas(DynamoUsageCounters(cloud.table), Quota(max_bytes=max_bytes, max_files=max_files))


def test_reservations_count_bytes_and_files_in_the_users_usage_item(cloud: Cloud) -> None:
    # Given a user with no usage
    policy = quotas(cloud)
    # When two uploads are reserved
    policy.reserve("alice", size=4 * MB)
    policy.reserve("alice", size=5 * MB)
    # Then her usage item (USER#alice / USAGE) holds both
    assert policy.usage("alice") == Usage(bytes=9 * MB, files=2)
    item = cloud.table.get_item(Key={"pk": "USER#alice", "sk": "USAGE"})["Item"]
    assert (item["bytes"], item["files"], item["entity"]) == (9 * MB, 2, "usage")


def test_upload_that_would_exceed_the_bytes_quota_is_refused_and_not_counted(cloud: Cloud) -> None:
    policy = quotas(cloud)
    policy.reserve("alice", size=8 * MB)
    # When 3 MB more would make 11 MB of 10 / Then refused, and the usage is unchanged
    with pytest.raises(QuotaExceededError, match="8388608 of 10485760 bytes"):
        policy.reserve("alice", size=3 * MB)
    assert policy.usage("alice") == Usage(bytes=8 * MB, files=1)
    # And exactly filling the quota is allowed
    policy.reserve("alice", size=2 * MB)
    assert policy.usage("alice") == Usage(bytes=10 * MB, files=2)


def test_upload_beyond_the_files_quota_is_refused(cloud: Cloud) -> None:
    policy = quotas(cloud, max_files=2)
    policy.reserve("alice", size=1)
    policy.reserve("alice", size=1)
    with pytest.raises(QuotaExceededError, match="2 of 2 files"):
        policy.reserve("alice", size=1)


def test_a_file_larger_than_the_whole_quota_is_refused_at_once(cloud: Cloud) -> None:
    with pytest.raises(QuotaExceededError, match="exceeds the quota"):
        quotas(cloud).reserve("alice", size=11 * MB)
    assert quotas(cloud).usage("alice") == Usage()


def test_users_have_separate_usage(cloud: Cloud) -> None:
    policy = quotas(cloud, max_files=1)
    policy.reserve("alice", size=MB)
    policy.reserve("bob", size=MB)
    assert policy.usage("bob") == Usage(bytes=MB, files=1)


def test_release_gives_the_reservation_back(cloud: Cloud) -> None:
    policy = quotas(cloud, max_files=1)
    policy.reserve("alice", size=6 * MB)
    # When the upload is aborted / Then the bytes and the file are free again
    policy.release("alice", size=6 * MB)
    assert policy.usage("alice") == Usage(bytes=0, files=0)
    policy.reserve("alice", size=10 * MB)


def test_release_never_takes_the_counters_below_zero(cloud: Cloud) -> None:
    policy = quotas(cloud)
    policy.reserve("alice", size=MB)
    # When more is released than was counted (a drifted counter)
    policy.release("alice", size=5 * MB)
    # Then the counters stop at zero
    assert policy.usage("alice") == Usage(bytes=0, files=0)
