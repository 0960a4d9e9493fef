"""The customer's accounts page shows pending card payments (holds) of the demo bank."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_web_browser import demo_user_named
from web_harness import WebPage

pytestmark = pytest.mark.browser


def test_customer_sees_pending_holds_on_the_account(web: WebPage) -> None:
    page = web.page
    web.sign_in(*demo_user_named("alice"))
    expect(page.locator("main h1")).to_have_text("Dashboard")
    web.nav("Accounts", "/accounts")
    pending = page.locator("main article.account-card details.pending-holds")
    expect(pending).to_have_count(1)  # the hotel's hold; the coffee shop's was captured
    expect(pending.locator("summary")).to_contain_text("1 pending")
    pending.locator("summary").click()
    expect(pending).to_contain_text("Harbour Hotel")
    card = page.locator("main article.account-card").filter(
        has=page.locator("details.pending-holds")
    )
    expect(card).to_contain_text("available")
