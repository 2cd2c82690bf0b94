"""DynamoDB: the single metadata table (docs/architecture.md)."""

from __future__ import annotations

from tests.infra.synth import Synthesized

COMMON = {
    "BillingMode": "PAY_PER_REQUEST",
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    "SSESpecification": {"SSEEnabled": True},
}


def test_metadata_table_keys_index_and_ttl(synthesized: Synthesized) -> None:
    # Given the metadata table
    resource = synthesized.resource(synthesized.stack.metadata.table)
    properties = resource["Properties"]
    # Then it has string pk/sk, the gsi1..gsi3 indexes on gsiNpk/gsiNsk, TTL on expires_at ...
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
        *((f"{index}{key}", "S") for index in ("gsi1", "gsi2", "gsi3") for key in ("pk", "sk")),
    }
    assert properties["GlobalSecondaryIndexes"] == [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": f"{index}pk", "KeyType": "HASH"},
                {"AttributeName": f"{index}sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for index in ("gsi1", "gsi2", "gsi3")
    ]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    # ... on-demand, point-in-time recovery, AWS-managed encryption, deleted with the stack
    assert COMMON.items() <= properties.items()
    assert resource["DeletionPolicy"] == "Delete"
