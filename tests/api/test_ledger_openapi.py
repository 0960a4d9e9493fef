"""The OpenAPI page of the ledger API: stable operation ids, tags, and every error listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api_helpers import api_settings

from ledgerbank.app import create_app

OPERATIONS = {
    ("post", "/accounts/"): "accounts-open",
    ("get", "/accounts/"): "accounts-list",
    ("get", "/accounts/{account_id}"): "accounts-get",
    ("get", "/accounts/{account_id}/balance"): "accounts-balance",
    ("get", "/accounts/{account_id}/statement"): "accounts-statement",
    ("post", "/accounts/{account_id}/freeze"): "accounts-freeze",
    ("post", "/accounts/{account_id}/unfreeze"): "accounts-unfreeze",
    ("post", "/transactions/deposit"): "transactions-deposit",
    ("post", "/transactions/withdraw"): "transactions-withdraw",
    ("post", "/transactions/transfer"): "transactions-transfer",
    ("post", "/transactions/batch"): "transactions-batch",
    ("get", "/transactions/history"): "transactions-history",
    ("get", "/transactions/{transaction_id}"): "transactions-get",
    ("post", "/transactions/{transaction_id}/reverse"): "transactions-reverse",
    ("post", "/transactions/{transaction_id}/flag"): "transactions-flag",
    ("post", "/admin/import"): "admin-import",
}


def codes(operation: dict[str, Any], status: str) -> set[str]:
    content = operation["responses"][status]["content"]["application/problem+json"]
    return set(content["schema"]["properties"]["code"]["enum"])


def test_operations_errors_and_tags(tmp_path: Path) -> None:
    spec = create_app(api_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)).openapi()
    for (method, path), operation_id in OPERATIONS.items():
        operation = spec["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == [operation_id.split("-")[0]]
        assert codes(operation, "401") == {"not_authenticated"}, operation_id
        assert "forbidden" in codes(operation, "403"), operation_id
        if "{" in path:
            assert "not_found" in codes(operation, "404"), operation_id
    for (method, path), operation_id in OPERATIONS.items():
        if method != "post" or not path.startswith("/transactions/") or path.endswith("/flag"):
            continue  # what follows holds for the money-moving POSTs
        operation = spec["paths"][path][method]
        assert "idempotency_conflict" in codes(operation, "409"), operation_id
        parameters = {p["name"] for p in operation.get("parameters", [])}
        assert "Idempotency-Key" in parameters, operation_id
    for operation_id in ("withdraw", "transfer", "batch"):
        operation = spec["paths"][f"/transactions/{operation_id}"]["post"]
        assert {"invalid_amount", "blocked_by_risk", "insufficient_funds"} <= codes(
            operation, "422"
        )
        assert {"pin_required", "invalid_pin"} <= codes(operation, "403")
        assert "pin_locked" in codes(operation, "429")
    deposit = spec["paths"]["/transactions/deposit"]["post"]
    assert {"invalid_amount", "blocked_by_risk", "account_frozen"} <= codes(deposit, "422")
