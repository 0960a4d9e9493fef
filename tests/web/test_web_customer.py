"""The customer's web app, second round (issue 13), in Debian's Chromium against a real server
with the demo bank: confirmation of payee before money moves, saved payees, counterparties by
name, search and running balance, statements, "I don't recognise this", spending by category,
the phone menu, clear PIN messages, and every customer page fitting a phone without "null"."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_harness import REPO, WebPage

from ledgerbank.demo.history import DEMO_PIN, USERS

pytestmark = pytest.mark.browser

DOCS = REPO / "docs" / "screenshots"
PAGES = (
    "/dashboard",
    "/accounts",
    "/move",
    "/history",
    "/payees",
    "/insights",
    "/profile",
    "/security",
)
BAD_WORDS = re.compile(r"\b(null|undefined|NaN)\b|user #")


def password(username: str) -> str:
    return next(u.password for u in USERS if u.username == username)


def sign_in(web: WebPage, username: str) -> None:
    web.sign_in(username, password(username))


def accounts_of(web: WebPage, username: str) -> list[dict[str, Any]]:
    with web.server.client(web.server.token(username, password(username))) as client:
        return list(client.get("/accounts/").json()["items"])


def doc_shot(web: WebPage, name: str) -> None:
    """A screenshot of the page as it is, in artifacts/screenshots; with
    LEDGERBANK_DOCS_SCREENSHOTS=1 also the README's copy in docs/screenshots."""
    web.shot(name)
    if os.environ.get("LEDGERBANK_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        web.page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def page_problems(web: WebPage) -> dict[str, Any]:
    """How wide the page is against the viewport, and any element text a customer must never
    read ("null", "undefined", "NaN", "user #")."""
    found: dict[str, Any] = web.page.evaluate(
        """() => {
          const bad = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const text = walker.currentNode.textContent;
            if (/\\b(null|undefined|NaN)\\b|user #/.test(text)) bad.push(text.trim().slice(0, 80));
          }
          for (const el of document.querySelectorAll("input, select, textarea")) {
            if (/^(null|undefined|NaN)$/.test(el.value)) bad.push(`${el.name}: ${el.value}`);
          }
          return { width: document.documentElement.scrollWidth, viewport: window.innerWidth, bad };
        }"""
    )
    return found


def wait_settled(web: WebPage, route: str) -> None:
    web.ready(route)
    web.page.wait_for_function("() => !document.querySelector('main .loading')", timeout=30_000)


def test_every_customer_page_fits_a_phone_and_reads_no_null(web: WebPage) -> None:
    page = web.page
    sign_in(web, "alice")
    page.set_viewport_size({"width": 390, "height": 844})
    # the dashboard's chart was drawn at desktop width; Plotly shrinks it on a debounced resize
    page.wait_for_function(
        "() => document.documentElement.scrollWidth <= window.innerWidth", timeout=10_000
    )
    with web.server.client(web.server.token("alice", password("alice"))) as client:
        latest = client.get("/transactions/history", params={"limit": 1}).json()["items"][0]
    # every page of the customer's menu (pages others add included), and a transaction's page
    menu_routes = page.eval_on_selector_all(
        "nav[aria-label=Main] a", "links => links.map((a) => a.dataset.path)"
    )
    assert set(PAGES) <= set(menu_routes)
    for route in (*menu_routes, f"/transactions/{latest['id']}"):
        web.goto(route)
        wait_settled(web, route)
        if route == "/insights":
            web.charts_drawn(3)
        elif route in ("/dashboard",):
            web.charts_drawn(1)
        found = page_problems(web)
        assert found["width"] <= found["viewport"], f"{route} is {found['width']} px wide at 390"
        assert found["bad"] == [], f"{route} reads {found['bad']}"
    web.goto("/insights")
    wait_settled(web, "/insights")
    web.charts_drawn(3)
    doc_shot(web, "customer-insights-phone")

    # the phone menu closes on the page you are on, on Escape and on a tap outside it
    menu = page.get_by_role("button", name="☰ Menu")
    sidebar = page.locator("#sidebar")
    menu.click()
    expect(sidebar).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    expect(sidebar).to_be_hidden()
    menu.click()
    expect(sidebar).to_be_visible()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    expect(sidebar).to_be_visible()
    page.mouse.click(370, 600)  # the page beside the menu
    expect(sidebar).to_be_hidden()


def test_insights_fit_a_wide_screen_without_model_names(web: WebPage) -> None:
    page = web.page
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(web, "alice")
    web.nav("Insights", "/insights")
    web.charts_drawn(3)
    main = page.locator("main")
    for word in ("robust_seasonal", "linear_regression", "method", "Risk", "0.00 – 0.00"):
        expect(main).not_to_contain_text(word)
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('main .stat, main .card')]
              .filter((el) => el.scrollWidth > el.clientWidth + 1)
              .map((el) => el.textContent.slice(0, 60))"""
    )
    assert overflowing == []
    found = page_problems(web)
    assert found["width"] <= found["viewport"]
    assert found["bad"] == []
    # every month label reads "Mon YYYY", never "2026-05"
    labels = page.locator("main .chart .xtick text").all_text_contents()
    assert labels
    assert not any(re.fullmatch(r"\d{4}-\d{2}", label) for label in labels)
    doc_shot(web, "customer-insights")


def test_paying_someone_new_is_reviewed_first_and_the_payee_is_saved(web: WebPage) -> None:
    page = web.page
    bob = next(a for a in accounts_of(web, "bob") if a["currency"] == "USD")
    mine = next(a for a in accounts_of(web, "carol") if a["currency"] == "USD")
    sign_in(web, "carol")
    web.nav("Transactions", "/move")
    transfer = page.get_by_role("form", name="Transfer")
    transfer.get_by_label("From account").select_option(str(mine["id"]))
    transfer.get_by_label("To account").select_option("other")
    transfer.get_by_label("Amount").fill("7.25")
    transfer.get_by_label("Transaction PIN").fill(DEMO_PIN)
    with web.guard.expect(404, r"^/accounts/payee"):
        transfer.get_by_label("Recipient account number").fill("999999999999")
        transfer.get_by_role("button", name="Transfer").click()
        expect(page.get_by_role("region", name="Result")).to_contain_text(
            "No account can be paid with that number."
        )
    transfer.get_by_label("Recipient account number").fill(bob["account_number"])
    transfer.get_by_label("Description (optional)").fill("concert tickets")
    transfer.get_by_label("Transaction PIN").fill(DEMO_PIN)
    transfer.get_by_role("button", name="Transfer").click()

    review = page.get_by_role("region", name="Check the payment")
    expect(review).to_contain_text("Bob S.")
    expect(review).to_contain_text("··" + bob["account_number"][-4:])
    expect(review).to_contain_text("$7.25")
    expect(review).not_to_contain_text(bob["account_number"])
    expect(review).not_to_contain_text("Smith")
    balance = next(a for a in accounts_of(web, "carol") if a["id"] == mine["id"])["balance"]
    assert balance == mine["balance"], "nothing moves before the customer confirms"
    doc_shot(web, "customer-review-payment")

    # changing the amount makes the review stale; the customer reviews again
    transfer.get_by_label("Amount").fill("7.50")
    expect(review).to_have_count(0)
    transfer.get_by_role("button", name="Transfer").click()
    expect(review).to_contain_text("$7.50")
    review.get_by_label("Save this payee for next time").check()
    review.get_by_role("button", name="Confirm and pay").click()
    result = page.get_by_role("region", name="Result")
    expect(result).to_contain_text("Transferred $7.50")
    expect(result).to_contain_text("Paid to Bob S.")
    expect(result).to_contain_text("Saved as a payee.")

    web.nav("Payees", "/payees")
    payees = page.get_by_role("table")
    expect(payees).to_contain_text("Bob S.")
    form = page.get_by_role("form", name="Add a payee")
    greenleaf = next(a for a in accounts_of(web, "greenleaf") if a["currency"] == "USD")
    form.get_by_label("Account number").fill(greenleaf["account_number"])
    form.get_by_label("Nickname (optional)").fill("Grocer")
    form.get_by_role("button", name="Add payee").click()
    expect(page.get_by_text(re.compile(r"Added Grocer: Greenleaf M\."))).to_be_visible()
    with web.guard.expect(409, r"^/payees$"):
        form.get_by_label("Account number").fill(greenleaf["account_number"])
        form.get_by_role("button", name="Add payee").click()
        expect(page.locator("main .alert.error")).to_contain_text("conflicts")
    doc_shot(web, "customer-payees")

    page.get_by_role("row", name=re.compile("Grocer")).get_by_role("link", name="Pay").click()
    web.ready("/move")
    transfer = page.get_by_role("form", name="Transfer")
    transfer.get_by_label("From account").select_option(str(mine["id"]))
    transfer.get_by_label("Amount").fill("3.00")
    transfer.get_by_label("Transaction PIN").fill(DEMO_PIN)
    transfer.get_by_role("button", name="Transfer").click()
    review = page.get_by_role("region", name="Check the payment")
    expect(review).to_contain_text("Greenleaf M. (Grocer)")
    review.get_by_role("button", name="Change").click()
    expect(review).to_have_count(0)

    page.get_by_role("row", name=re.compile("Grocer")).count()  # the menu is still there
    web.nav("Payees", "/payees")
    page.get_by_role("row", name=re.compile("Grocer")).get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Removed Grocer.")).to_be_visible()


def test_history_names_counterparties_searches_them_and_runs_a_balance(web: WebPage) -> None:
    page = web.page
    sign_in(web, "alice")
    web.nav("History", "/history")
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("account #")
    expect(page.locator("main")).not_to_contain_text("No transactions match these filters")
    filters = page.get_by_role("search", name="Filter transactions")
    filters.get_by_label("Search").fill("oakwood")
    filters.get_by_role("button", name="Apply filters").click()
    web.ready()
    expect(rows.first).to_contain_text("To Oakwood P.")
    for row in rows.all():
        expect(row).to_contain_text("Oakwood P.")
    filters.get_by_label("Search").fill("no such payee anywhere")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No transactions match these filters.")).to_be_visible()

    checking = next(a for a in accounts_of(web, "alice") if a["account_type"] == "checking")
    filters.get_by_label("Search").fill("")
    filters.get_by_label("Account").select_option(str(checking["id"]))
    filters.get_by_role("button", name="Apply filters").click()
    expect(page.locator("main th", has_text="Balance")).to_be_visible()
    first_balance = rows.first.locator("td.balance-after")
    expect(first_balance).to_contain_text("$")
    doc_shot(web, "customer-history")

    with page.expect_download() as download_info:
        filters.get_by_role("button", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert exported
    assert "from_account_id" not in exported[0]
    assert "to_account_id" not in exported[0]
    assert all(not row["to_account"] or row["to_account"].startswith("··") for row in exported)

    rows.first.locator("a").first.click()
    web.ready()
    main = page.locator("main")
    expect(main.locator("h1")).to_have_text(re.compile(r"Transaction #\d+"))
    expect(main).not_to_contain_text("account #")
    expect(main).not_to_contain_text("null")
    page.get_by_role("button", name="I don't recognise this").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("What do you know about it? (optional)").fill("I never made this")
    dialog.get_by_role("button", name="Report it").click()
    reported = main.locator("[data-reported]")
    expect(reported).to_contain_text("We are looking into this transaction.")
    expect(reported).to_contain_text("Our fraud team will look into this transaction")
    for word in ("score", "verdict", "rule", "alert", "SAFE", "SUSPICIOUS"):
        expect(reported).not_to_contain_text(word)
    doc_shot(web, "customer-transaction-reported")
    page.get_by_role("button", name="I don't recognise this").click()
    page.get_by_role("dialog").get_by_role("button", name="Report it").click()
    expect(reported).to_contain_text("You have already reported this transaction.")


def test_statements_for_a_period_and_freezing_my_own_account(web: WebPage) -> None:
    page = web.page
    sign_in(web, "dave")
    web.nav("Accounts", "/accounts")
    statements = page.get_by_role("form", name="Download a statement")
    statements.get_by_label("From").fill("2020-01-01")
    for kind in ("PDF", "CSV"):
        with page.expect_download() as download_info:
            statements.get_by_role("button", name=f"Download {kind}").click()
        file = download_info.value
        assert file.suggested_filename.endswith(f".{kind.lower()}")
        body = Path(file.path()).read_bytes()
        assert body.startswith(b"%PDF") if kind == "PDF" else b"balance_after" in body
    expect(page.get_by_text("A freeze you made yourself")).to_be_visible()
    doc_shot(web, "customer-accounts")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("article.account-card").first.get_by_role("button", name="Freeze account").click()
    expect(page.locator("article.account-card").first).to_contain_text("Frozen")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("article.account-card").first.get_by_role("button", name="Unfreeze").click()
    expect(page.locator("article.account-card").first).to_contain_text("Active")


def test_spending_by_category_explains_and_takes_a_correction(web: WebPage) -> None:
    page = web.page
    sign_in(web, "erin")
    web.nav("Insights", "/insights")
    web.charts_drawn(3)
    card = page.locator(
        "main section", has=page.get_by_role("heading", name="Spending by category")
    )
    payments = card.get_by_role("table").nth(1)
    expect(payments.locator("tbody tr").first).to_be_visible()
    first = payments.locator("tbody tr").first
    select = first.locator("select")
    before = select.input_value()
    target = "entertainment" if before != "entertainment" else "shopping"
    select.select_option(target)
    expect(card.locator(".alert.ok")).to_contain_text("is now in")
    expect(card.get_by_role("table").first).to_contain_text(target.title())
    expect(card).to_contain_text("you chose this category for this payee")
    doc_shot(web, "customer-spending-categories")


def test_pin_messages_warn_before_the_lock_and_stale_errors_go(web: WebPage) -> None:
    page = web.page
    sign_in(web, "frank")
    web.nav("Transactions", "/move")
    page.get_by_role("tab", name="Withdraw").click()
    withdraw = page.get_by_role("form", name="Withdraw")
    withdraw.get_by_label("Account").select_option(index=1)
    withdraw.get_by_label("Amount").fill("1.00")
    result = page.get_by_role("region", name="Result")
    with web.guard.expect(403, r"^/transactions/withdraw$"):
        withdraw.get_by_label("Transaction PIN").fill("0000")
        withdraw.get_by_role("button", name="Withdraw").click()
        expect(result).to_contain_text("That PIN is not correct.")
        expect(result).to_contain_text("attempts left")
        expect(result.locator(".alert")).to_have_count(1)
        expect(result).not_to_contain_text("the PIN is wrong")  # the server's words stay out
        while "one more wrong PIN" not in result.inner_text():
            withdraw.get_by_label("Transaction PIN").fill("0000")
            withdraw.get_by_role("button", name="Withdraw").click()
            expect(result).to_contain_text("That PIN is not correct.")
    expect(result).to_contain_text("Careful: one more wrong PIN locks payments")
    # the browser's own check stops the next submit: the old error goes
    withdraw.get_by_label("Amount").fill("")
    withdraw.get_by_role("button", name="Withdraw").click()
    expect(result.locator(".alert.error")).to_have_count(0)
    # a field the server refuses is named in plain words, never with its pattern
    web.nav("Profile", "/profile")
    edit = page.get_by_role("form", name="Edit profile")
    with web.guard.expect(422, r"^/users/profile$"):
        edit.get_by_label("Phone").fill("call me maybe")
        edit.get_by_role("button", name="Save profile").click()
        error = page.locator("main .alert.error")
        expect(error).to_contain_text("phone: is not in the expected format")
        expect(error).not_to_contain_text("pattern")
        expect(error).not_to_contain_text("^")
    web.nav("Transactions", "/move")
    page.get_by_role("tab", name="Withdraw").click()
    withdraw = page.get_by_role("form", name="Withdraw")
    withdraw.get_by_label("Account").select_option(index=1)
    result = page.get_by_role("region", name="Result")
    with web.guard.expect(429, r"^/transactions/withdraw$"):
        withdraw.get_by_label("Amount").fill("1.00")
        withdraw.get_by_label("Transaction PIN").fill("0000")
        withdraw.get_by_role("button", name="Withdraw").click()
        expect(result).to_contain_text("Locked until")


def test_a_new_customer_reads_empty_states_with_a_currency(web: WebPage) -> None:
    page = web.page
    with web.server.client() as client:
        registered = client.post(
            "/auth/register",
            json={
                "username": "newcomer",
                "password": "a long enough passphrase",
                "email": "newcomer@example.com",
                "full_name": "Nina Newcomer",
                "date_of_birth": "1990-02-03",
            },
        )
        assert registered.status_code == 201, registered.text
    web.sign_in("newcomer", "a long enough passphrase")
    expect(page.locator(".stat").filter(has_text="Income this month")).to_contain_text("$0.00")
    for route in ("/insights", "/history", "/payees", "/accounts"):
        web.goto(route)
        wait_settled(web, route)
        main = page.locator("main")
        expect(main).not_to_contain_text("0.00 – 0.00")
        expect(main).not_to_contain_text("No transactions match these filters")
        assert page_problems(web)["bad"] == []
    web.goto("/insights")
    expect(page.get_by_text("Open an account to see a forecast.")).to_be_visible()
    web.goto("/history")
    expect(page.get_by_text("No transactions yet.")).to_be_visible()


def test_closing_an_account_moves_the_rest_out_with_the_pin(web: WebPage) -> None:
    page = web.page
    sign_in(web, "dave")
    with web.server.client(web.server.token("dave", password("dave"))) as client:
        mine = client.get("/accounts/").json()["items"]
        main = next(a for a in mine if a["currency"] == "USD" and a["status"] == "active")
        spare = client.post("/accounts/", json={"account_type": "wallet", "currency": "USD"})
        spare_account = spare.json()
        paid = client.post(
            "/transactions/transfer",
            json={
                "from_account_id": main["id"],
                "to_account_id": spare_account["id"],
                "amount": "5.00",
                "pin": DEMO_PIN,
            },
        )
        assert paid.status_code == 201, paid.text
    web.nav("Accounts", "/accounts")
    card = page.locator("article.account-card").filter(has_text=spare_account["account_number"])
    card.get_by_role("button", name="Close account").click()
    dialog = page.get_by_role("dialog", name="Close account")
    dialog.get_by_label("Move the rest to").select_option(str(main["id"]))
    dialog.get_by_label("Transaction PIN").fill(DEMO_PIN)
    dialog.get_by_role("button", name="Close account").click()
    said = page.get_by_text(f"Account {spare_account['account_number']} is closed.")
    expect(said).to_contain_text("Moved out: $5.00.")
    expect(card).to_contain_text("Closed")
    expect(card.get_by_role("button", name="Close account")).to_have_count(0)
    with web.server.client(web.server.token("dave", password("dave"))) as client:
        closed = client.get(f"/accounts/{spare_account['id']}").json()
    assert (closed["status"], closed["balance"]) == ("closed", "0.00")
