"""The trust flows in a real browser (issue 11): staff sign in with a code; an administrator
proposes a staff user and another user's reset link, a second administrator approves both in
the checker inbox and gets each link once; the links' page sets the passwords; the new staff
user enrols two-step sign-in (QR code, recovery codes) on their first sign-in and signs in with a
code afterwards; the customer reads a security notice. A fraud analyst freezes an account with
a reason the freeze dialog shows as the customer will read it; the customer reads only that,
and freezes and unfreezes another account of their own."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect
from web_harness import WebPage

from ledgerbank.demo.history import USERS

pytestmark = pytest.mark.browser


def password_of(username: str) -> str:
    return next(u.password for u in USERS if u.username == username)


def sign_out(web: WebPage) -> None:
    web.page.get_by_role("button", name="Sign out", exact=True).click()
    expect(web.page.get_by_role("form", name="Sign in")).to_be_visible()


def set_password_with(web: WebPage, link: str, password: str) -> None:
    web.page.goto(link)
    expect(web.page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "token=" not in web.page.url  # the token leaves the address bar at once
    form = web.page.get_by_role("form", name="New password")
    form.get_by_label("New password").fill(password)
    form.get_by_label("Repeat it").fill(password)
    form.get_by_role("button", name="Set the new password").click()
    expect(web.page.get_by_text("Your password is set.")).to_be_visible()


def test_four_eyes_staff_creation_reset_links_and_two_step_enrolment(web: WebPage) -> None:
    page = web.page
    web.sign_in("admin", password_of("admin"))  # the code step (staff always have one)
    web.ready("/admin/users")
    create = page.get_by_role("form", name="Create a staff user")
    create.get_by_label("Username").fill("nina.audit")
    create.get_by_label("Full name").fill("Nina Audit")
    create.get_by_label("Email").fill("nina@example.com")
    create.get_by_label("Role").select_option("auditor")
    create.get_by_label("Reason").fill("second auditor for the year end")
    create.get_by_role("button", name="Propose").click()
    expect(page.get_by_text(re.compile(r"Proposed: Create auditor nina\.audit"))).to_be_visible()
    search = page.get_by_role("search", name="Find users")
    search.get_by_label("Search").fill("erin")
    search.get_by_role("button", name="Find").click()
    page.get_by_role("button", name="Reset password").click()
    expect(
        page.get_by_text(re.compile(r"Proposed: Issue a password reset link for erin"))
    ).to_be_visible()
    web.shot("trust-admin-proposes")
    # the proposer cannot approve their own proposals
    web.nav("Approvals", "/approvals")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("main").get_by_role("button", name="Approve")).to_have_count(0)
    sign_out(web)

    web.sign_in("supervisor", password_of("supervisor"))
    web.nav("Approvals", "/approvals")
    expect(rows).to_have_count(2)
    web.shot("trust-checker-inbox")
    links: dict[str, str] = {}
    for who in ("nina.audit", "erin"):
        row = rows.filter(has_text=who)
        row.get_by_role("button", name="Approve").click()
        link = page.locator(".reset-link")
        expect(link).to_contain_text("#/reset-password?token=")
        for earlier in links.values():  # the answer to this approval, not the last one
            expect(link).not_to_have_text(earlier)
        links[who] = link.inner_text()
    assert len(set(links.values())) == 2
    expect(page.locator("main").get_by_role("button", name="Approve")).to_have_count(0)
    sign_out(web)

    # erin sets a new password with her link and reads the security notice
    set_password_with(web, links["erin"], "erin's new long passphrase")
    web.sign_in("erin", "erin's new long passphrase")
    web.nav("Security", "/security")
    expect(page.get_by_role("region", name="Security notices")).to_contain_text(
        "Your password was reset"
    )
    web.shot("trust-security-notices")
    sign_out(web)

    # the new auditor: a password from the link, then two-step enrolment at the first sign-in
    set_password_with(web, links["nina.audit"], "nina's first passphrase")
    page.get_by_role("link", name="Sign in with it").click()
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Username").fill("nina.audit")
    form.get_by_label("Password").fill("nina's first passphrase")
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(page.locator("img.qr")).to_be_visible()
    secret = page.locator("[data-secret]").get_attribute("data-secret")
    assert secret
    enrolled_at = int(time.time()) // 30
    confirm = page.get_by_role("form", name="Confirm two-step sign-in")
    confirm.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(enrolled_at * 30))
    confirm.get_by_role("button", name="Turn on two-step sign-in").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    web.shot("trust-enrolment-recovery-codes")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("nav[aria-label=Main]", timeout=20_000)
    web.ready()
    sign_out(web)

    # and from now on signs in with a code
    web.guard.allow(401, r"^/auth/login$")
    form.get_by_label("Username").fill("nina.audit")
    form.get_by_label("Password").fill("nina's first passphrase")
    form.get_by_role("button", name="Sign in").click()
    code_field = form.get_by_label("Sign-in code")
    expect(code_field).to_be_visible()
    expect(form.get_by_role("alert")).to_contain_text("6-digit code")
    code_field.fill(pyotp.TOTP(secret).at((enrolled_at + 1) * 30))  # a code is used once
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("nav[aria-label=Main]", timeout=20_000)
    web.ready()
    expect(page.locator(".who")).to_contain_text("Auditor")


def test_the_freeze_dialog_shows_what_the_customer_reads(web: WebPage) -> None:
    page = web.page
    grace = {"username": "grace", "password": password_of("grace")}
    with web.server.client(web.server.token(grace["username"], grace["password"])) as client:
        cards = client.get("/accounts/").json()["items"]
    checking = next(a for a in cards if a["account_type"] == "checking")
    savings = next(a for a in cards if a["account_type"] == "savings")

    web.sign_in("analyst", password_of("analyst"))
    web.nav("Accounts", "/accounts")
    filters = page.get_by_role("form", name="Filter accounts")
    filters.get_by_label("Owner (name or email)").fill("grace lee")  # staff filter by name
    filters.get_by_role("button", name="Filter").click()
    row = page.locator("main table tbody tr").filter(has_text=checking["account_number"])
    row.get_by_role("button", name="Freeze").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".customer-preview")).to_contain_text("temporarily restricted")
    dialog.get_by_label("Reason the customer reads").select_option("suspected_fraud")
    expect(dialog.locator(".customer-preview")).to_contain_text(
        "The customer will see: We froze this account to protect you from possible fraud"
    )
    dialog.get_by_label("Internal note").fill("card cloned at an ATM in Lisbon")
    web.shot("trust-freeze-dialog")
    dialog.get_by_role("button", name="Freeze").click()
    expect(row).to_contain_text("card cloned at an ATM in Lisbon")  # staff read their note
    expect(row).to_contain_text("by fraud")
    sign_out(web)

    web.sign_in(grace["username"], grace["password"])
    web.nav("Accounts", "/accounts")
    frozen_card = page.locator("article.account-card").filter(has_text=checking["account_number"])
    expect(frozen_card).to_contain_text("to protect you from possible fraud")
    expect(page.locator("main")).not_to_contain_text("Lisbon")
    expect(page.locator("main")).not_to_contain_text("fraud_analyst")
    expect(frozen_card.get_by_role("button", name="Unfreeze")).to_have_count(0)
    web.shot("trust-customer-frozen-account")
    own_card = page.locator("article.account-card").filter(has_text=savings["account_number"])
    page.once("dialog", lambda d: d.accept())
    own_card.get_by_role("button", name="Freeze account").click()
    expect(page.get_by_text(f"Account {savings['account_number']} is now frozen.")).to_be_visible()
    expect(own_card).to_contain_text("You froze this account")
    page.once("dialog", lambda d: d.accept())
    own_card.get_by_role("button", name="Unfreeze").click()
    expect(page.get_by_text(f"Account {savings['account_number']} is now active.")).to_be_visible()
    web.nav("Security", "/security")
    expect(page.get_by_role("region", name="Security notices")).to_contain_text(
        "One of your accounts was frozen"
    )
