"""The Exchange and Rates pages in a real browser over the demo bank: Carol gets a quote and
exchanges dollars into her euro savings with her PIN; a financial manager sets a rate."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from web_harness import WebPage

from ledgerbank.demo.history import DEMO_PIN, USERS

pytestmark = pytest.mark.browser


def password_of(username: str) -> str:
    return next(u.password for u in USERS if u.username == username)


def test_customer_exchanges_after_a_quote(web: WebPage) -> None:
    page = web.page
    web.sign_in("carol", password_of("carol"))
    web.nav("Exchange", "/exchange")
    form = page.get_by_role("form", name="Exchange")
    form.get_by_label("From account", exact=True).select_option(index=1)  # checking (USD)
    form.get_by_label("To account", exact=True).select_option(index=2)  # savings (EUR)
    form.get_by_label("Amount", exact=True).fill("108.50")
    form.get_by_role("button", name="Get a quote").click()
    confirm = page.get_by_role("form", name="Confirm the exchange")
    expect(confirm).to_contain_text("Rate: 1 EUR = 1.085 USD")
    expect(confirm).to_contain_text("€100.00")
    expect(confirm).to_contain_text("Fee:")
    confirm.get_by_label("Transaction PIN").fill(DEMO_PIN)
    confirm.get_by_role("button", name="Confirm exchange").click()
    expect(page.get_by_role("status").filter(has_text="Exchanged")).to_contain_text(
        re.compile(r"transaction #\d+")
    )
    web.shot("customer-exchange")

    # History of the euro account: the exchange reads as euros in, with the euro balance.
    web.nav("History", "/history")
    filters = page.get_by_role("search", name="Filter transactions")
    filters.get_by_label("Account").select_option(index=2)  # savings (EUR)
    filters.get_by_role("button", name="Apply filters").click()
    web.ready()
    newest = page.locator("main table tbody tr").first
    expect(newest).to_contain_text("+€100.00")
    expect(newest.locator("td.balance-after")).to_contain_text("€")


def test_financial_manager_sets_a_rate(web: WebPage) -> None:
    page = web.page
    manager = next(u for u in USERS if u.role == "financial_manager")
    web.sign_in(manager.username, manager.password)
    web.nav("Rates", "/rates")
    expect(page.locator("main table").first).to_contain_text("EUR/USD")
    form = page.get_by_role("form", name="Set an exchange rate")
    form.get_by_label("Base currency").fill("GBP")
    form.get_by_label("Quote currency").fill("USD")
    form.get_by_label("Rate (quote per one base)").fill("1.2675")
    form.get_by_role("button", name="Set rate").click()
    expect(form).to_contain_text("GBP/USD 1.2675")
    expect(page.locator("main table").first).to_contain_text("GBP/USD")
    web.shot("manager-rates")
