"""TransactWriteItems for moto's DynamoDB backend that costs what the transaction touches.

moto backs up every table a transaction names (`copy.deepcopy` of the whole table) so that it can
roll back, which makes each transaction O(table size): with a few thousand items, one takes seconds of
LocalStack's CPU, and everything else served by that process waits. This version does what DynamoDB
does: every condition is checked against the state before the transaction, nothing is written unless
all pass, and a write that fails midway is undone from copies of the items it had touched.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

_OPERATIONS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _check(backend: DynamoDBBackend, op: dict[str, Any], key: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(None, None, None) when the operation's condition holds, else its cancellation reason."""
    condition = op.get("ConditionExpression")
    if condition is None:
        return (None, None, None)
    current = backend.get_item(op["TableName"], key)
    condition_op = get_filter_expression(
        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if condition_op.expr(current):
        return (None, None, None)
    item = None
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
        item = current.to_json()["Attributes"]
    return ("ConditionalCheckFailed", ConditionalCheckFailed().message, item)


def _apply(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(
            op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values
        )
    elif op_type == "Delete":
        backend.delete_item(
            op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
        )
    elif op_type == "Update":
        backend.update_item(
            op["TableName"],
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


def _restore(backend: DynamoDBBackend, table_name: str, key: dict[str, Any], original: Any) -> None:
    table = backend.get_table(table_name)
    hash_key, range_key = backend.get_keys_value(table, key)
    if original is None:
        table.delete_item(hash_key, range_key)
    elif range_key is not None:
        table.items[hash_key][range_key] = original
    else:
        table.items[hash_key] = original


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    planned: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in _OPERATIONS:
            raise ValueError("Unsupported transaction operation")
        key = _key_of(self, op_type, op)
        target = (str(op["TableName"]), str(key))
        if target in seen:
            raise MultipleTransactionsException()
        seen.add(target)
        planned.append((op_type, op, key))
    # Every condition against the state before the transaction, as DynamoDB evaluates them.
    reasons = []
    for _op_type, op, key in planned:
        try:
            reasons.append(_check(self, op, key))
        except MockValidationException:
            raise
        except Exception as exc:
            reasons.append((type(exc).__name__, str(exc), None))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    # Then the writes; one that fails undoes those before it, from copies of only the items touched.
    originals: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for op_type, op, key in planned:
            if op_type == "ConditionCheck":
                continue
            originals.append((op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key))))
            _apply(self, op_type, op, key)
    except Exception as exc:
        for table_name, key, original in reversed(originals):
            _restore(self, table_name, key, original)
        if isinstance(exc, MockValidationException | MultipleTransactionsException):
            raise
        reasons = [(None, None, None)] * len(planned)
        raise TransactionCanceledException([(type(exc).__name__, str(exc), None), *reasons[1:]]) from exc


def install() -> None:
    """Replace moto's implementation for the whole LocalStack process (idempotent)."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
