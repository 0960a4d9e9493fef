"""Sanctions screening at registration, through the API: a match is a compliance alert about
the new customer (no transaction), and the customer's answer says nothing about it."""

from __future__ import annotations

from pathlib import Path

from api_helpers import Bank

from ledgerbank.risk import sanctions

LIST = (
    "name,aliases,date_of_birth,country,programme,reference\n"
    '"Viktor Petrovich Sokolov","Viktor Sokolov;V. P. Sokolov",1961-04-12,RU,EO13660,SDN-1001\n'
    '"Mohammed Al-Rashid","Muhammad Alrashid|Abu Karim",1975,SY,SYRIA,SDN-1002\n'
)


def import_list(bank: Bank, tmp_path: Path) -> None:
    path = tmp_path / "sdn.csv"
    path.write_text(LIST, encoding="utf-8")
    bank.database.write(lambda conn: sanctions.import_list(conn, path, list_name="sdn"))


def register(bank: Bank, username: str, full_name: str, born: str) -> dict[str, object]:
    answer = bank.post(
        None,
        "/auth/register",
        json={
            "username": username,
            "password": "a long enough passphrase 42",
            "email": f"{username}@example.com",
            "full_name": full_name,
            "date_of_birth": born,
        },
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_listed_name_registering_raises_a_compliance_alert_it_is_not_told_about(
    bank: Bank, tmp_path: Path
) -> None:
    import_list(bank, tmp_path)
    listed = register(bank, "vps", "Viktor Sokolov", "1961-04-12")
    clean = register(bank, "jane", "Jane Whitfield", "1990-02-01")
    assert set(listed) == set(clean)  # the same answer, nothing about screening
    assert not any("sanction" in str(value).lower() for value in listed.values())
    page = bank.get(
        "compliance_officer", "/compliance/alerts", params={"rule_id": "sanctions_match"}
    )
    assert page.status_code == 200, page.text
    (alert,) = [a for a in page.json()["items"] if a["rule_id"] == "sanctions_match"]
    assert alert["user_id"] == listed["id"]
    assert alert["transaction_id"] is None
    assert alert["severity"] == "high"
    assert "Viktor Sokolov" in alert["summary"]
    assert "SDN-1001" in alert["summary"]
    detail = bank.get("compliance_officer", f"/compliance/alerts/{alert['id']}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["transaction"] is None
    # The customer cannot see the compliance queue at all.
    assert bank.get("alice", "/compliance/alerts").status_code in (403, 404)


def test_a_born_elsewhere_namesake_is_not_matched(bank: Bank, tmp_path: Path) -> None:
    import_list(bank, tmp_path)
    register(bank, "namesake", "Viktor Sokolov", "1994-09-30")
    page = bank.get("compliance_officer", "/compliance/alerts")
    assert [a for a in page.json()["items"] if a["rule_id"] == "sanctions_match"] == []
