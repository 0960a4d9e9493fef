"""The web app in a real browser: every role signs in to a real server with the demo bank,
opens every view of its workspace and performs its main action; any console error, failed
request or unexpected error answer fails the test. Screenshots land in artifacts/screenshots."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_harness import WebPage

from ledgerbank.demo.history import DEMO_PIN, USERS

pytestmark = pytest.mark.browser


def demo_user(role: str) -> tuple[str, str]:
    user = next(u for u in USERS if u.role == role)
    return user.username, user.password


def demo_user_named(username: str) -> tuple[str, str]:
    user = next(u for u in USERS if u.username == username)
    return user.username, user.password


def sign_in_as(web: WebPage, role: str) -> str:
    username, password = demo_user(role)
    web.sign_in(username, password)
    return username


def test_customer_views_and_a_transfer(web: WebPage) -> None:
    page = web.page
    sign_in_as(web, "customer")
    expect(page.locator("main h1")).to_have_text("Dashboard")
    web.charts_drawn(1)
    expect(page.get_by_text("Total balance")).to_be_visible()
    expect(page.get_by_text("Income this month")).to_be_visible()
    expect(page.locator("main table tbody tr").first).to_be_visible()
    web.shot("customer-dashboard")

    web.nav("Accounts", "/accounts")
    cards = page.locator("main article.account-card")
    before = cards.count()
    assert before >= 2
    form = page.get_by_role("form", name="Open a new account")
    form.get_by_label("Account type").select_option("wallet")
    form.get_by_role("button", name="Open account").click()
    expect(page.get_by_text(re.compile(r"Opened wallet account \d+"))).to_be_visible()
    expect(cards).to_have_count(before + 1)
    web.shot("customer-accounts")

    web.nav("Transactions", "/move")
    transfer = page.get_by_role("form", name="Transfer")
    sources = transfer.get_by_label("From account").locator("option")
    source_value = sources.nth(1).get_attribute("value")
    target_value = sources.nth(2).get_attribute("value")
    transfer.get_by_label("From account").select_option(source_value)
    transfer.get_by_label("To account").select_option(target_value)
    transfer.get_by_label("Amount").fill("12.34")
    transfer.get_by_label("Description (optional)").fill("browser test transfer")
    transfer.get_by_label("Transaction PIN").fill(DEMO_PIN)
    transfer.get_by_role("button", name="Transfer").click()
    result = page.get_by_role("region", name="Result")
    expect(result).to_contain_text("Transferred $12.34")
    expect(result).not_to_contain_text("Risk")  # customers never see a verdict (tipping off)
    web.shot("customer-transactions")

    web.nav("History", "/history")
    filters = page.get_by_role("search", name="Filter transactions")
    filters.get_by_label("Type").select_option("transfer")
    filters.get_by_label("Search").fill("browser test transfer")
    filters.get_by_role("button", name="Apply filters").click()
    web.ready()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("$12.34")
    filters.get_by_role("button", name="Clear").click()
    expect(rows.first).to_be_visible()
    pages = page.get_by_role("navigation", name="Pages")
    pages.get_by_role("button", name="Next").click()
    expect(pages).to_contain_text("Page 2")
    page.get_by_role("button", name="Amount").click()  # sort by amount, ascending
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("Amount")
    expect(pages).to_contain_text("Page 1")
    with page.expect_download() as download_info:
        filters.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    exported = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert len(exported) > 2
    assert "amount" in [name.lower() for name in exported[0]]
    web.shot("customer-history")

    web.nav("Insights", "/insights")
    web.charts_drawn(2)  # the forecast and the monthly summary; no risk scores for customers
    expect(page.locator("main")).not_to_contain_text("Risk")
    expect(page.locator(".stat .label").filter(has_text="Predicted")).to_be_visible()
    web.shot("customer-insights")

    web.nav("Profile", "/profile")
    edit = page.get_by_role("form", name="Edit profile")
    edit.get_by_label("Phone").fill("+1 555 0100")
    edit.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    expect(page.get_by_text("KYC status")).to_be_visible()
    web.shot("customer-profile")

    page.goto(f"{web.server.url}/#/history")
    web.ready("/history")
    page.locator("main table tbody tr a").first.click()
    web.ready()
    expect(page.locator("main h1")).to_have_text(re.compile(r"Transaction #\d+"))
    expect(page.get_by_role("heading", name="Entries")).to_be_visible()
    web.shot("customer-transaction")


def test_register_set_pin_and_move_money_with_it(web: WebPage) -> None:
    page = web.page
    page.goto(f"{web.server.url}/")
    page.get_by_role("tab", name="Register").click()
    form = page.get_by_role("form", name="Register")
    username = f"web{uuid.uuid4().hex[:8]}"
    form.get_by_label("Full name").fill("Wendy Browser")
    form.get_by_label("Email").fill(f"{username}@example.com")
    form.get_by_label("Date of birth").fill("1990-04-01")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill("a-long-browser-password")
    web.shot("signin-register")
    form.get_by_role("button", name="Create my account").click()
    page.wait_for_selector("nav[aria-label=Main]")
    web.ready("/dashboard")
    expect(page.get_by_text("Open an account to see its balance over time.")).to_be_visible()

    web.nav("Profile", "/profile")
    expect(page.get_by_text("pending", exact=False).first).to_be_visible()
    pin = page.get_by_role("form", name="Set transaction PIN")
    pin.get_by_label("New PIN").fill("4321")
    pin.get_by_label("Current password").fill("a-long-browser-password")
    pin.get_by_role("button", name="Set PIN").click()
    expect(page.get_by_text("Your transaction PIN is set.")).to_be_visible()

    # Money leaves an account once the bank has verified the customer's identity.
    with web.server.client(web.server.token(*demo_user("admin"))) as client:
        found = client.get("/admin/users", params={"q": username}).json()["items"]
        (user,) = [u for u in found if u["username"] == username]
        verified = client.put(f"/admin/users/{user['id']}/kyc", json={"kyc_status": "verified"})
        assert verified.status_code == 200, verified.text

    web.nav("Accounts", "/accounts")
    opening = page.get_by_role("form", name="Open a new account")
    opening.get_by_role("button", name="Open account").click()
    expect(page.locator("main article.account-card")).to_have_count(1)

    web.nav("Transactions", "/move")
    page.get_by_role("tab", name="Deposit").click()
    deposit = page.get_by_role("form", name="Deposit")
    deposit.get_by_label("Account").select_option(index=1)
    deposit.get_by_label("Amount").fill("100")
    deposit.get_by_role("button", name="Deposit").click()
    result = page.get_by_role("region", name="Result")
    expect(result).to_contain_text("Deposited $100.00")

    page.get_by_role("tab", name="Withdraw").click()
    withdraw = page.get_by_role("form", name="Withdraw")
    withdraw.get_by_label("Account").select_option(index=1)
    withdraw.get_by_label("Amount").fill("30")
    withdraw.get_by_label("Transaction PIN").fill("9999")
    with web.guard.expect(403, r"^/transactions/withdraw$"):
        withdraw.get_by_role("button", name="Withdraw").click()
        expect(result).to_contain_text("That PIN is not correct.")
    withdraw.get_by_label("Transaction PIN").fill("4321")
    withdraw.get_by_role("button", name="Withdraw").click()
    expect(result).to_contain_text("Withdrew $30.00")

    withdraw.get_by_label("Amount").fill("1000")
    withdraw.get_by_label("Transaction PIN").fill("4321")
    with web.guard.expect(422, r"^/transactions/withdraw$"):
        withdraw.get_by_role("button", name="Withdraw").click()
        expect(result).to_contain_text("There is not enough money in the account for this.")
    web.shot("customer-withdraw-refused")

    web.nav("Dashboard", "/dashboard")
    expect(page.locator(".stat").filter(has_text="Total balance")).to_contain_text("$70.00")

    # Risk screening: a burst of payments to many new recipients (velocity, fan-out) is soon
    # declined; the page says that no money moved and gives a reference, never why.
    with web.server.client(web.server.token(*demo_user("admin"))) as client:
        listed = client.get("/accounts/", params={"limit": 100, "status": "active"}).json()
    recipients = [
        a["account_number"] for a in listed["items"] if a["currency"] == "USD" and a["owner_id"]
    ][:10]
    web.nav("Transactions", "/move")
    page.get_by_role("tab", name="Deposit").click()
    deposit = page.get_by_role("form", name="Deposit")
    deposit.get_by_label("Account").select_option(index=1)
    deposit.get_by_label("Amount").fill("2500.00")
    deposit.get_by_role("button", name="Deposit").click()
    expect(result).to_contain_text("Deposited $2,500.00")
    expect(result).not_to_contain_text("Risk")
    page.get_by_role("tab", name="Transfer").click()
    transfer = page.get_by_role("form", name="Transfer")
    transfer.get_by_label("From account").select_option(index=1)
    transfer.get_by_label("To account").select_option("other")
    with web.guard.expect(422, r"^/transactions/transfer$"):
        for n, recipient in enumerate(recipients, start=1):
            transfer.get_by_label("Recipient account number").fill(recipient)
            transfer.get_by_label("Amount").fill(f"{n}.00")
            transfer.get_by_label("Transaction PIN").fill("4321")
            transfer.get_by_role("button", name="Transfer").click()
            # confirmation of payee: the review names the holder before any money moves
            result.get_by_role("button", name="Confirm and pay").click()
            expect(result).to_contain_text(re.compile(rf"Transferred \${n}\.00|No money moved"))
            if result.get_by_role("alert").count():
                break
        blocked = result.get_by_role("alert")
        expect(blocked).to_contain_text("No money moved")
    expect(blocked).to_contain_text("Reference:")
    expect(blocked.get_by_role("listitem")).to_have_count(0)  # no rules, no reasons
    for word in ("CRITICAL", "score", "rule", "smaller amount", "velocity", "fan_out"):
        expect(blocked).not_to_contain_text(word)
    web.shot("customer-declined")


def test_live_updates_reach_an_open_dashboard(web: WebPage) -> None:
    page = web.page
    username, password = demo_user("customer")
    web.sign_in(username, password)
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=15_000)
    token = web.server.token(username, password)
    with web.server.client(token) as client:
        account = client.get("/accounts/").json()["items"][0]
        marker = f"live update {uuid.uuid4().hex[:6]}"
        answer = client.post(
            "/transactions/deposit",
            json={"account_id": account["id"], "amount": "7.77", "description": marker},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert answer.status_code == 201, answer.text
    expect(page.locator("main table").get_by_text(marker)).to_be_visible(timeout=20_000)
    web.shot("customer-dashboard-live")


def test_theme_toggle_is_remembered_and_phone_layout_works(web: WebPage) -> None:
    page = web.page
    sign_in_as(web, "customer")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.get_by_role("button", name="Switch to the light theme").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.reload()
    web.ready()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    web.charts_drawn(1)
    web.shot("customer-dashboard-light")

    page.set_viewport_size({"width": 390, "height": 844})
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    menu.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    web.ready("/history")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    web.shot("customer-history-phone")
    page.get_by_role("button", name="Switch to the dark theme").click()


def test_keyboard_sign_in_and_wrong_password_message(web: WebPage) -> None:
    page = web.page
    username, password = demo_user("customer")
    page.goto(f"{web.server.url}/")
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill("not-the-password")
    with web.guard.expect(401, r"^/auth/login$"):
        form.get_by_label("Password").press("Enter")
        expect(form.get_by_role("alert")).to_contain_text("Wrong username or password.")
    form.get_by_label("Password").fill(password)
    form.get_by_label("Password").press("Enter")
    web.ready("/dashboard")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()

    # A token the server no longer accepts ends the session with a message, not a broken page.
    web.sign_in(username, password)
    page.evaluate(
        """() => {
        const key = "ledgerbank.session";
        const stored = JSON.parse(sessionStorage.getItem(key));
        sessionStorage.setItem(key, JSON.stringify({ ...stored, token: "revoked" }));
    }"""
    )
    with web.guard.expect(401, r"^/(accounts/|events/stream|transactions/|analytics/|users/)"):
        page.reload()
        expect(page.get_by_role("form", name="Sign in")).to_contain_text("Please sign in again")


def test_financial_manager_reports_and_exports(web: WebPage) -> None:
    page = web.page
    sign_in_as(web, "financial_manager")
    web.ready("/reports")
    expect(page.get_by_text("Transactions", exact=True).first).to_be_visible()
    web.charts_drawn(1)
    builder = page.get_by_role("form", name="Custom report")
    builder.get_by_label("Month").check()
    builder.get_by_label("Avg").check()
    builder.get_by_role("button", name="Run report").click()
    expect(page.locator(".report-result table tbody tr").first).to_be_visible()
    expect(page.locator(".report-result th").filter(has_text="Avg")).to_be_visible()
    for kind in ("csv", "xlsx"):
        with page.expect_download() as download_info:
            builder.get_by_role("button", name=f"Export {kind.upper()}").click()
        assert download_info.value.suggested_filename.endswith(f".{kind}")
    web.shot("manager-reports")
    visit_every_view(web, "manager")


def raise_alerts(web: WebPage) -> int:
    """A demo customer pays a large sum in cash at the counter (staff take it: it is past the
    self-service limit): risk screening raises fraud and AML alerts."""
    bob = next(u for u in USERS if u.role == "customer" and u.username == "bob")
    with web.server.client(web.server.token(bob.username, bob.password)) as client:
        account = client.get("/accounts/").json()["items"][0]
    with web.server.client(web.server.token(*demo_user("admin"))) as client:
        proposed = client.post(
            "/transactions/deposit",
            json={"account_id": account["id"], "amount": "15000.00", "description": "cash"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        # this much cash waits for a second administrator (four eyes), who approves it
        assert proposed.status_code == 202, proposed.text
        approval = proposed.json()["approval_id"]
    with web.server.client(web.server.token(*demo_user_named("supervisor"))) as supervisor:
        done = supervisor.post(f"/approvals/{approval}/approve", json={})
        assert done.json()["status"] == "approved", done.text
        posted = int(done.json()["result"]["transaction_id"])
        assert supervisor.get(f"/transactions/{posted}").json()["risk"]["verdict"] != "SAFE"
    with web.server.client(web.server.token(bob.username, bob.password)) as client:
        seen = client.get(f"/transactions/{posted}").json()
        assert seen["risk"] is None  # the customer is never told
    return posted


SHOT: set[str] = set()  # pages already screenshotted by an earlier role


def visit_every_view(web: WebPage, role: str) -> list[str]:
    """Open each page of the role's menu (screenshotting the ones no role showed yet) and
    return the menu's labels."""
    links = web.page.get_by_role("navigation", name="Main").get_by_role("link")
    labels = [links.nth(i).inner_text() for i in range(links.count())]
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    for label, target in zip(labels, hrefs, strict=True):
        web.nav(label, target.removeprefix("#"))
        expect(web.page.locator("main h1")).to_be_visible()
        if target not in SHOT:
            SHOT.add(target)
            web.shot(f"{role}-{target.strip('#/').replace('/', '-')}")
        web.guard.check()
    return labels


def test_fraud_analyst_works_an_alert(web: WebPage) -> None:
    page = web.page
    sign_in_as(web, "fraud_analyst")
    web.ready("/fraud")
    queue = page.get_by_role("search", name="Filter fraud alerts")
    expect(queue.get_by_label("Status")).to_have_value("open")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=15_000)
    transaction_id = raise_alerts(web)
    # The new alert appears in the open queue without a reload.
    alerts = page.get_by_role("region", name="Fraud alert queue")
    row = alerts.locator("tbody tr").filter(has_text=f"#{transaction_id}").first
    expect(row).to_be_visible(timeout=20_000)
    expect(alerts.get_by_text(re.compile(r"New fraud alert #\d+"))).to_be_visible()
    web.shot("analyst-fraud-queue")
    row.get_by_role("link").first.click()
    web.ready()
    expect(page.locator("main h1")).to_have_text(re.compile(r"Fraud alert #\d+"))
    expect(page.get_by_text("Large cash", exact=True)).to_be_visible()
    actions = page.get_by_role("group", name="Actions")
    actions.get_by_role("button", name="Take it").click()
    web.ready()
    expect(page.get_by_text("Investigating", exact=True)).to_be_visible()

    actions.get_by_role("button", name="Flag transaction").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").fill("cash far above this customer's habits")
    dialog.get_by_role("button", name="Flag").click()
    web.ready()
    expect(page.get_by_text("cash far above this customer's habits")).to_be_visible()
    web.shot("analyst-fraud-alert")

    actions.get_by_role("button", name="Freeze").click()
    # the dialog shows what the customer will read, apart from the internal note
    dialog.get_by_label("Reason the customer reads").select_option("suspected_fraud")
    expect(dialog.locator(".customer-preview")).to_contain_text(
        "to protect you from possible fraud"
    )
    dialog.get_by_label("Internal note").fill("frozen while we call the customer")
    dialog.get_by_role("button", name="Freeze").click()
    web.ready()
    expect(page.get_by_text("Frozen", exact=True)).to_be_visible()
    web.shot("analyst-fraud-alert-frozen")
    actions.get_by_role("button", name="Unfreeze").click()
    dialog.get_by_label("Reason").fill("the customer confirmed the deposit")
    dialog.get_by_role("button", name="Unfreeze").click()
    web.ready()
    actions.get_by_role("button", name="Resolve: false positive").click()
    dialog.get_by_label("Note").fill("inheritance paid in cash, documents seen")
    dialog.get_by_role("button", name="Confirm false positive").click()
    web.ready()
    expect(page.get_by_text("False positive", exact=True)).to_be_visible()
    expect(actions.get_by_role("button", name="Resolve: fraud")).to_have_count(0)
    visit_every_view(web, "analyst")


def test_compliance_officer_aml_actions_metrics_and_audit(web: WebPage) -> None:
    page = web.page
    raise_alerts(web)
    sign_in_as(web, "compliance_officer")
    web.ready("/compliance")
    expect(page.get_by_text("Unresolved AML alerts")).to_be_visible()
    queue = page.get_by_role("search", name="Filter compliance alerts")
    queue.get_by_label("Rule").select_option("large_cash")
    queue.get_by_role("button", name="Filter").click()
    alerts = page.get_by_role("region", name="Compliance alert queue")
    row = alerts.locator("tbody tr").filter(has_text="large_cash").first
    expect(row).to_be_visible()
    web.shot("compliance-aml-queue")
    row.get_by_role("link").first.click()
    web.ready()
    expect(page.locator("main h1")).to_have_text(re.compile(r"AML alert #\d+"))
    page.get_by_role("group", name="Actions").get_by_role("button", name="Escalate").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Note").fill("cash above the reporting threshold")
    dialog.get_by_role("button", name="Escalate").click()
    web.ready()
    expect(page.get_by_text("Escalated", exact=True).first).to_be_visible()
    web.shot("compliance-aml-alert")

    web.nav("Audit log", "/audit")
    expect(page.locator("main table tbody tr").first).to_be_visible()
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator(".verify-result")).to_contain_text("The audit chain is intact")
    filters = page.get_by_role("search", name="Filter the audit log")
    filters.get_by_label("Entity type").select_option("account")
    filters.get_by_role("button", name="Apply filters").click()
    web.ready()
    expect(page.locator("main table tbody tr").first).to_contain_text("account")
    web.shot("compliance-audit")
    visit_every_view(web, "compliance")


def test_auditor_asks_ledgergpt_and_checks_the_ledger(web: WebPage) -> None:
    page = web.page
    sign_in_as(web, "auditor")
    web.ready("/ledgergpt")
    console = page.get_by_role("form", name="Ask LedgerGPT")
    console.get_by_label("Your question").fill("which accounts are frozen")
    console.get_by_role("button", name="Ask").click()
    answer = page.locator(".ledgergpt-answer")
    expect(answer.get_by_label("Generated SQL")).to_contain_text("SELECT")
    expect(answer).to_contain_text("row")
    page.get_by_role("region", name=re.compile("Example questions")).or_(
        page.get_by_label("Example questions")
    ).get_by_role("button").first.click()
    expect(answer.locator("table, .empty").first).to_be_visible()
    web.shot("auditor-ledgergpt")
    with web.guard.expect(422, r"^/ledgergpt/ask$"):
        console.get_by_label("Your question").fill("what is the airspeed of a swallow")
        console.get_by_role("button", name="Ask").click()
        expect(answer.get_by_role("alert")).to_contain_text("did not understand")
    web.shot("auditor-ledgergpt-not-understood")

    web.nav("Ledger", "/ledger")
    expect(page.get_by_text("The ledger is sound.")).to_be_visible()
    expect(
        page.get_by_text("Assets equal liabilities plus equity in every currency.")
    ).to_be_visible()
    expect(page.get_by_text("No replica: reports read the primary database.")).to_be_visible()
    web.shot("auditor-ledger")
    visit_every_view(web, "auditor")


def test_admin_users_kyc_import_and_every_workspace(web: WebPage, tmp_path: Any) -> None:
    page = web.page
    sign_in_as(web, "admin")
    web.ready("/admin/users")
    search = page.get_by_role("search", name="Find users")
    search.get_by_label("Search").fill("mallory")
    search.get_by_role("button", name="Find").click()
    kyc = page.get_by_label("KYC status of mallory")
    kyc.select_option("verified")
    confirm = page.get_by_role("dialog")  # a change asks for confirmation and a reason
    expect(confirm).to_contain_text("from Pending to Verified")
    confirm.get_by_label("Reason").fill("passport checked at the branch")
    confirm.get_by_role("button", name="Change").click()
    expect(page.get_by_text("mallory: KYC status is now Verified.")).to_be_visible()
    web.shot("admin-users")

    erin = next(u for u in USERS if u.username == "erin")
    with web.server.client(web.server.token(erin.username, erin.password)) as client:
        number = client.get("/accounts/").json()["items"][0]["account_number"]
    moment = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    csv_file = tmp_path / "history.csv"
    csv_file.write_text(
        "external_id,timestamp,type,from_account,to_account,amount,currency,description\n"
        f"web-{uuid.uuid4().hex[:8]},{moment},deposit,,{number},15.00,USD,imported cash\n"
    )
    web.nav("Import history", "/admin/import")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload").click()
    result = page.locator(".import-result")
    expect(result).to_contain_text("1 rows read, nothing posted")
    page.get_by_label("Dry run").uncheck()
    page.get_by_role("button", name="Upload").click()
    # money would move: it waits for a second administrator, who approves it
    expect(result).to_contain_text("Proposed: Import 1 transaction(s)")
    with web.server.client(web.server.token(*demo_user_named("supervisor"))) as supervisor:
        waiting = supervisor.get("/approvals", params={"status": "pending"}).json()["items"]
        (pending,) = [item for item in waiting if item["action"] == "ledger.import"]
        done = supervisor.post(f"/approvals/{pending['id']}/approve", json={})
        assert done.json()["status"] == "approved", done.text
        assert done.json()["result"]["posted"] == 1
    page.get_by_role("button", name="Upload").click()  # the same file again: a duplicate
    expect(result).to_contain_text("0 of 1 rows posted")
    expect(result).to_contain_text("1 already imported")
    web.shot("admin-import")
    labels = visit_every_view(web, "admin")
    assert {"Fraud alerts", "AML & compliance", "Reports", "LedgerGPT", "Ledger"} <= set(labels)
