"""Personal data in the audit trail: identity no longer copies it into records, and what older
records hold is masked for readers whose role may not see it."""

from __future__ import annotations

import json

from identity_bank import Bank

from ledgerbank.audit import service as audit


def test_audit_logs_mask_personal_values_for_auditors(bank: Bank) -> None:
    alice = bank.add_user("alice")
    bank.database.write(
        lambda c: audit.record(
            c,
            actor_id=bank.users["admin"],
            action="user.legacy_created",
            entity_type="user",
            entity_id=alice,
            before={"phone": "+1 555 0199"},
            after={"email": "alice@example.com", "date_of_birth": "1990-05-17", "role": "customer"},
        )
    )
    wanted = {"action": "user.legacy_created"}
    (seen,) = bank.call("auditor", "GET", "/audit/logs", params=wanted).json()["items"]
    assert seen["after"] == {
        "email": "[personal]", "date_of_birth": "[personal]", "role": "customer"
    }  # fmt: skip
    assert seen["before"] == {"phone": "[personal]"}
    for staff in ("admin", "compliance_officer"):
        (full,) = bank.call(staff, "GET", "/audit/logs", params=wanted).json()["items"]
        assert full["after"]["email"] == "alice@example.com"
    # At any depth: a four-eyes proposal carries the new user's details under `params`.
    bank.database.write(
        lambda c: audit.record(
            c,
            actor_id=bank.users["admin"],
            action="approval.legacy_proposed",
            entity_type="approval",
            after={"params": {"email": "staff@example.com", "role": "auditor"}},
        )
    )
    (proposal,) = bank.call(
        "auditor", "GET", "/audit/logs", params={"action": "approval.legacy_proposed"}
    ).json()["items"]
    assert proposal["after"]["params"] == {"email": "[personal]", "role": "auditor"}
    # New records name the user by id and copy nothing personal in the first place.
    created = bank.call(
        "auditor", "GET", "/audit/logs", params={"action": "user.created", "entity_id": alice}
    ).json()["items"]
    assert [r["after"] for r in created] == [{"role": "customer", "kyc_status": "pending"}]
    assert "alice@example.com" not in json.dumps(created)
