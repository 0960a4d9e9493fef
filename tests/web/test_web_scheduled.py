"""The web app's scheduled payments (a customer) and jobs (an admin) pages, in a real browser
on the demo bank: alice sees her rent standing order, sets up another with her PIN, reads its
attempts and cancels it; the admin reads the worker's jobs after a `ledgerbank worker --once`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from web_harness import WebPage, run_ledgerbank

from ledgerbank.demo.history import DEMO_PIN, USERS

pytestmark = pytest.mark.browser


def _sign_in(web: WebPage, username: str) -> None:
    user = next(u for u in USERS if u.username == username)
    web.sign_in(user.username, user.password)


def test_a_customer_sets_up_reads_and_cancels_a_standing_order(web: WebPage) -> None:
    page = web.page
    _sign_in(web, "alice")
    web.nav("Scheduled payments", "/scheduled")
    orders = page.get_by_role("table", name="Scheduled payments")
    expect(orders).to_contain_text("Rent (standing order)")

    form = page.get_by_role("form", name="New scheduled payment")
    form.get_by_label("From account").select_option(index=1)
    form.get_by_label("To account").select_option(index=2)
    form.get_by_label("Amount").fill("25.00")
    form.get_by_label("How often").select_option("weekly")
    form.get_by_label("Description (optional)").fill("Pocket money")
    form.get_by_label("Transaction PIN").fill(DEMO_PIN)
    form.get_by_role("button", name="Set up").click()
    expect(page.get_by_text(re.compile(r"Set up: \$25\.00 weekly"))).to_be_visible()
    row = orders.locator("tr", has_text="Pocket money")
    expect(row).to_contain_text("Active")
    row.get_by_role("button", name="Attempts").click()
    expect(page.get_by_text("Nothing has fallen due yet.")).to_be_visible()
    web.shot("customer-scheduled-payments")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Cancelled: no further payment will be made.")).to_be_visible()
    expect(orders.locator("tr", has_text="Pocket money")).to_contain_text("Cancelled")


def test_an_admin_reads_the_workers_jobs(web: WebPage) -> None:
    run_ledgerbank(web.server.env, "worker", "--once")
    page = web.page
    _sign_in(web, "admin")
    web.nav("Jobs", "/admin/jobs")
    jobs = page.get_by_role("table", name="Jobs")
    expect(jobs).to_contain_text("payments.standing_orders")
    expect(jobs).to_contain_text("approvals.expire")
    expect(jobs.locator("tr", has_text="payments.standing_orders")).to_contain_text("Ok")
    web.shot("admin-jobs")
