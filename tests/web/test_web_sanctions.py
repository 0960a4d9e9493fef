"""A sanctions match in the browser: a listed name registers, and the compliance officer opens
the alert, which has no transaction, without an error on the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from web_harness import WebPage, run_ledgerbank

from ledgerbank.demo.history import USERS

pytestmark = pytest.mark.browser


def test_compliance_officer_opens_a_sanctions_alert_raised_at_registration(
    web: WebPage, tmp_path: Path
) -> None:
    listing = tmp_path / "sdn.csv"
    listing.write_text(
        'name,aliases,date_of_birth,country\n"Viktor Petrovich Sokolov","Viktor Sokolov",1961,RU\n',
        encoding="utf-8",
    )
    run_ledgerbank(web.server.env, "sanctions", "import", str(listing), "--list", "sdn")
    with web.server.client() as client:
        answer = client.post(
            "/auth/register",
            json={
                "username": "vsokolov",
                "password": "a long enough passphrase 42",
                "email": "vsokolov@example.com",
                "full_name": "Viktor Sokolov",
                "date_of_birth": "1961-04-12",
            },
        )
        assert answer.status_code == 201, answer.text
    officer = next(u for u in USERS if u.role == "compliance_officer")
    token = web.server.token(officer.username, officer.password)
    with web.server.client(token) as client:
        items = client.get("/compliance/alerts", params={"limit": 500}).json()["items"]
    (alert,) = [a for a in items if a["rule_id"] == "sanctions_match"]
    assert alert["transaction_id"] is None
    web.sign_in(officer.username, officer.password)
    web.goto("/compliance")
    queue = web.page.get_by_role("region", name="Compliance alert queue")
    row = queue.locator("tbody tr").filter(has_text="sanctions_match").first
    expect(row).to_be_visible()
    expect(row).to_contain_text("—")
    web.goto(f"/compliance/alerts/{alert['id']}")
    expect(web.page.get_by_text("No transaction: raised about the customer")).to_be_visible()
    # the customer by name, linked to their customer view (staff read names, not user numbers)
    customer = web.page.get_by_role("link", name="Viktor Sokolov").first
    expect(customer).to_be_visible()
    assert f"/customers/{alert['user_id']}" in (customer.get_attribute("href") or "")
    web.shot("compliance-sanctions-alert")
