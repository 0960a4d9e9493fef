"""Sanctions lists: importing, fuzzy matching, screening payees and payments to new payees."""

from __future__ import annotations

from pathlib import Path

import pytest
from risk_helpers import DbBank, risk_settings
from sqlalchemy import func, select

from ledgerbank import errors
from ledgerbank.kit.db import Database
from ledgerbank.risk import sanctions, scores
from ledgerbank.risk.screen import RiskScreen
from ledgerbank.risk.tables import risk_alerts, risk_scores, sanctions_entries, sanctions_lists

LIST = (
    "Name,Aliases,DOB,Nationality,Program,UID\n"
    '"Viktor Petrovich Sokolov","Viktor Sokolov;V. P. Sokolov",1961-04-12,RU,EO13660,SDN-1\n'
    '"Mohammed Al-Rashid","Muhammad Alrashid|Abu Karim",1975,SY,SYRIA,SDN-2\n'
    '"José Ramírez Ñúñez","",,VE,VENEZUELA,SDN-3\n'
)


def index_of(text: str = LIST) -> sanctions.SanctionsIndex:
    listed = []
    for number, entry in enumerate(sanctions.read_csv(text.encode()), start=1):
        names = [entry["name"], *sanctions.json.loads(entry["aliases"] or "[]")]
        for name in names:
            listed.append(
                sanctions.Listed(number, "sdn", entry["reference"], entry["name"], name,
                                 entry["date_of_birth"], entry["country"])
            )  # fmt: skip
    return sanctions.SanctionsIndex(listed)


@pytest.mark.parametrize(
    "name",
    [
        "Viktor Sokolov",
        "SOKOLOV, Viktor Petrovich",  # word order and case
        "Victor Sokolov",  # one letter off
        "Mr. V. P. Sokolov",  # honorific, initials: an alias
        "Mohamed Al Rashid",  # transliteration
        "Abu Karim",  # an alias only
        "Jose Ramirez Nunez",  # accents
    ],
)
def test_names_match_whatever_their_spelling(name: str) -> None:
    (match, *_) = index_of().search(name)
    assert match.score >= sanctions.DEFAULT_THRESHOLD


@pytest.mark.parametrize("name", ["Victoria Sokolova-Brandt", "Mohammed Ali", "Karim Benzema"])
def test_other_names_do_not_match(name: str) -> None:
    assert index_of().search(name) == []


def test_a_date_of_birth_that_disagrees_lowers_the_score() -> None:
    index = index_of()
    assert index.search("Viktor Sokolov", date_of_birth="1961-04-12")
    assert index.search("Viktor Sokolov", date_of_birth="1990-01-01") == []
    assert index.search("Mohammed Al-Rashid", date_of_birth="1976-03-01")  # within a year


def test_a_bad_file_names_its_line_and_imports_nothing(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,dob\nGood Name,1970\n,1971\n", encoding="utf-8")
    with pytest.raises(errors.ValidationFailed, match="line 3: the name is empty"):
        database.write(lambda conn: sanctions.import_list(conn, path, list_name="bad"))
    path.write_text("name,dob\nGood Name,12/03/1970\n", encoding="utf-8")
    with pytest.raises(errors.ValidationFailed, match="line 2: date of birth"):
        database.write(lambda conn: sanctions.import_list(conn, path, list_name="bad"))
    with database.read() as conn:
        assert conn.execute(select(func.count()).select_from(sanctions_lists)).scalar_one() == 0


def test_a_new_import_replaces_the_list_and_keeps_the_old_on_record(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "sdn.csv"
    path.write_text(LIST, encoding="utf-8")
    first = database.write(lambda conn: sanctions.import_list(conn, path, list_name="sdn"))
    assert (first.entries, first.aliases) == (3, 4)
    path.write_text("name\nOakridge Shipping Ltd\n", encoding="utf-8")
    database.write(lambda conn: sanctions.import_list(conn, path, list_name="sdn"))
    with database.read() as conn:
        index = sanctions.current_index(conn)
        assert [item.name for item in index.listed] == ["Oakridge Shipping Ltd"]
        assert conn.execute(select(func.count()).select_from(sanctions_entries)).scalar_one() == 4


@pytest.fixture
def bank(database: Database, tmp_path: Path) -> DbBank:
    path = tmp_path / "sdn.csv"
    path.write_text(LIST, encoding="utf-8")
    database.write(lambda conn: sanctions.import_list(conn, path, list_name="sdn"))
    world = DbBank(database, RiskScreen(risk_settings(tmp_path)))
    world.customer("alice")
    world.customer("viktor.sokolov")  # full name "Viktor.Sokolov"
    return world


def compliance(bank: DbBank) -> list[dict[str, object]]:
    return [
        dict(r)
        for r in bank.rows(select(risk_alerts).where(risk_alerts.c.rule_id == sanctions.RULE_ID))
    ]


def test_adding_a_listed_payee_raises_one_compliance_alert(
    bank: DbBank, database: Database
) -> None:
    for _ in range(2):
        found = database.write(
            lambda conn: sanctions.screen_payee(
                conn, owner_id=bank.users["alice"], payee_name="Viktor Sokolov"
            )
        )
        assert found[0].listed.reference == "SDN-1"
    (alert,) = compliance(bank)  # the second time collects on the open one
    assert alert["user_id"] == bank.users["alice"]
    assert alert["transaction_id"] is None
    assert "payee 'Viktor Sokolov' added" in str(alert["summary"])


def test_a_payment_to_a_new_payee_on_the_list_is_screened_once(bank: DbBank) -> None:
    alice, viktor = bank.account("alice"), bank.account("viktor.sokolov")
    bank.deposit(alice, "500.00")
    first = bank.transfer(alice, viktor, "40.00").transaction
    second = bank.transfer(alice, viktor, "41.00").transaction
    scores = {
        r["transaction_id"]: r["reasons"]
        for r in bank.rows(select(risk_scores.c.transaction_id, risk_scores.c.reasons))
    }
    assert sanctions.RULE_ID in scores[first["id"]]
    assert sanctions.RULE_ID not in scores[second["id"]]  # no longer a new payee
    (alert,) = compliance(bank)
    assert alert["account_id"] == viktor
    assert alert["transaction_id"] == first["id"]
    assert first["status"] == "posted"  # an alert for compliance, not a block


def test_a_listed_customer_never_reads_the_match_in_their_own_scores() -> None:
    item = {
        "type": "transfer",
        "from_account_id": 1,
        "to_account_id": 2,
        "reasons": [
            {"kind": "rule", "rule": sanctions.RULE_ID, "account_id": 2, "detail": "resembles"},
            {"kind": "rule", "rule": "fan_in_network", "account_id": 2, "detail": "payers"},
        ],
    }
    seen = scores.reasons_for_owner(item, {2})
    assert [reason["rule"] for reason in seen["reasons"]] == ["fan_in_network"]
