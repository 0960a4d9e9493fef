"""`check_pin`, as the money-moving routes call it: required, verified, counted, locked."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from identity_bank import PASSWORD, Bank
from sqlalchemy import update

from ledgerbank import errors
from ledgerbank.identity.service import check_pin
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow


def set_pin(bank: Bank, who: str, pin: str) -> None:
    response = bank.call(who, "PUT", "/users/pin", json={"pin": pin, "password": PASSWORD})
    assert response.status_code == 200, response.text


def test_without_a_pin_set_nothing_is_required(bank: Bank) -> None:
    user_id = bank.users["customer"]
    check_pin(bank.database, user_id, None, settings=bank.settings)
    check_pin(bank.database, user_id, "9999", settings=bank.settings)
    assert bank.user("customer")["failed_pins"] == 0


def test_a_set_pin_is_required_and_checked(bank: Bank) -> None:
    set_pin(bank, "customer", "4821")
    user_id = bank.users["customer"]
    for missing in (None, ""):
        with pytest.raises(errors.PinRequired):
            check_pin(bank.database, user_id, missing, settings=bank.settings)
    assert bank.user("customer")["failed_pins"] == 0  # a missing PIN is not a wrong one
    check_pin(bank.database, user_id, "4821", settings=bank.settings)
    with pytest.raises(errors.InvalidPin):
        check_pin(bank.database, user_id, "4822", settings=bank.settings)
    # the failure was committed although the check raised
    assert bank.user("customer")["failed_pins"] == 1
    (record,) = bank.audit(action="auth.pin_failed")
    assert json.loads(record["after"]) == {"failures": 1, "reason": "wrong_pin"}
    assert "4822" not in str(record["after"])
    # the right PIN clears the count
    check_pin(bank.database, user_id, "4821", settings=bank.settings)
    assert bank.user("customer")["failed_pins"] == 0


def test_five_wrong_pins_lock_the_pin_until_the_lock_passes(bank: Bank) -> None:
    set_pin(bank, "customer", "4821")
    user_id = bank.users["customer"]
    for attempt in range(1, 5):
        with pytest.raises(errors.InvalidPin):
            check_pin(bank.database, user_id, "0000", settings=bank.settings)
        assert bank.user("customer")["failed_pins"] == attempt
    with pytest.raises(errors.PinLocked) as locked:
        check_pin(bank.database, user_id, "0000", settings=bank.settings)
    assert locked.value.extra["retry_after"] > 14 * 60
    assert bank.user("customer")["pin_locked_until"] > utcnow() + timedelta(minutes=14)
    with pytest.raises(errors.PinLocked):  # even the right PIN, while locked
        check_pin(bank.database, user_id, "4821", settings=bank.settings)
    assert len(bank.audit(action="auth.pin_failed")) == 5
    assert len(bank.audit(action="auth.pin_locked")) == 1
    # the login itself is not locked by wrong PINs
    assert bank.login("customer").status_code == 200
    with bank.database.engine.begin() as conn:
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(pin_locked_until=utcnow() - timedelta(seconds=1))
        )
    check_pin(bank.database, user_id, "4821", settings=bank.settings)
    assert bank.user("customer")["pin_locked_until"] is None


def test_setting_a_new_pin_clears_a_pin_lock(bank: Bank) -> None:
    set_pin(bank, "customer", "4821")
    user_id = bank.users["customer"]
    for _ in range(5):
        with pytest.raises((errors.InvalidPin, errors.PinLocked)):
            check_pin(bank.database, user_id, "1111", settings=bank.settings)
    set_pin(bank, "customer", "135790")
    check_pin(bank.database, user_id, "135790", settings=bank.settings)
    with pytest.raises(errors.InvalidPin):
        check_pin(bank.database, user_id, "4821", settings=bank.settings)


def test_pin_limits_come_from_the_settings(bank: Bank) -> None:
    set_pin(bank, "customer", "4821")
    strict = bank.settings.model_copy(update={"pin_max_failures": 2, "pin_lock_minutes": 1})
    user_id = bank.users["customer"]
    with pytest.raises(errors.InvalidPin):
        check_pin(bank.database, user_id, "1111", settings=strict)
    with pytest.raises(errors.PinLocked) as locked:
        check_pin(bank.database, user_id, "1111", settings=strict)
    assert locked.value.extra["retry_after"] <= 61
