"""The staff's second round in a real browser (issue 13): the fraud analyst's queue with names,
age, score, sorting and bulk assign, the full-width case history with notes and freezes, the
network of who paid whom, customer search and the customer view; the compliance officer's SAR
and bulk close with metrics that agree; the manager's KPIs against the previous period and saved
reports; the auditor's LedgerGPT with formatted amounts, CSV export and history, and an audit log
with names and readable diffs. Every staff page, at 1280 px and at 390 px, is no wider than the
window and never reads "null", "undefined", "NaN" or "user #"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_web_browser import raise_alerts, sign_in_as
from test_web_customer import doc_shot
from web_harness import WebPage

pytestmark = pytest.mark.browser

BAD_WORDS = re.compile(r"\bnull\b|\bundefined\b|\bNaN\b|user #", re.IGNORECASE)


def page_is_clean(web: WebPage) -> None:
    """No placeholder leaks into the page, and it is no wider than the window."""
    text = web.page.locator("main").inner_text()
    found = BAD_WORDS.findall(text)
    assert not found, f"{web.page.url}: {found}"
    width = web.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{web.page.url} is {width[0]} px wide in a {width[1]} px window"


def every_page_clean(web: WebPage, extra: list[str]) -> None:
    """Each menu page and each of `extra`, at desktop width and at phone width."""
    links = web.page.get_by_role("navigation", name="Main").get_by_role("link")
    routes = [
        (links.nth(i).get_attribute("href") or "").removeprefix("#") for i in range(links.count())
    ]
    for width, height in ((1280, 860), (390, 844)):
        web.page.set_viewport_size({"width": width, "height": height})
        for route in [*routes, *extra]:
            web.goto(route)
            expect(web.page.locator("main h1")).to_be_visible()
            web.page.wait_for_function("() => !document.querySelector('main .loading')")
            page_is_clean(web)
    web.page.set_viewport_size({"width": 1280, "height": 860})


def test_fraud_analyst_queue_bulk_case_history_network_and_customer_view(web: WebPage) -> None:
    page = web.page
    raise_alerts(web)
    sign_in_as(web, "fraud_analyst")
    web.ready("/fraud")
    queue = page.get_by_role("search", name="Filter fraud alerts")
    queue.get_by_label("Sort").select_option("-score")
    queue.get_by_label("Assignee").select_option("none")
    queue.get_by_role("button", name="Filter").click()
    alerts = page.get_by_role("region", name="Fraud alert queue")
    row = alerts.locator("tbody tr").filter(has_text="Bob Smith").first
    expect(row).to_be_visible()
    expect(row).to_contain_text("Unassigned")
    row.get_by_role("checkbox").check()
    expect(alerts.get_by_text("1 selected")).to_be_visible()
    alerts.get_by_role("button", name="Assign to me").click()
    expect(alerts.get_by_text("Assigned to you: 1 alert.")).to_be_visible()
    queue.get_by_label("Assignee").select_option("me")
    queue.get_by_label("Status").select_option("investigating")
    queue.get_by_role("button", name="Filter").click()
    mine = alerts.locator("tbody tr").filter(has_text="Farah Analyst").first
    expect(mine).to_contain_text("Bob Smith")
    doc_shot(web, "staff-fraud-queue")

    mine.get_by_role("link").first.click()
    web.ready()
    expect(page.locator("main h1")).to_have_text(re.compile(r"Fraud alert #\d+"))
    actions = page.get_by_role("group", name="Actions")
    expect(actions.get_by_role("button", name="Take it")).to_have_count(0)  # it is hers already
    sides = (
        page.locator("dt").filter(has_text="From → to").locator("xpath=following-sibling::dd[1]")
    )
    expect(sides).to_have_text(re.compile(r"^Bob Smith ·\d{4} → [A-Z][a-z]+ [A-Z][a-z]+ ·\d{4}$"))
    history = page.locator(".case-history")
    expect(history.locator("tbody tr").first).to_contain_text("Farah Analyst")
    notes = page.get_by_role("form", name="Add a note")
    notes.get_by_label("Note").fill("Called Bob: he says the cash is from selling his car.")
    notes.get_by_role("button", name="Add note").click()
    web.ready()
    expect(history).to_contain_text("selling his car")
    actions.get_by_role("button", name="Freeze").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason the customer reads").select_option("suspected_fraud")
    dialog.get_by_label("Internal note").fill("frozen until the sale papers arrive")
    dialog.get_by_role("button", name="Freeze").click()
    web.ready()
    expect(history.locator("tbody tr").filter(has_text="Account frozen")).to_contain_text(
        "frozen until the sale papers arrive"
    )
    # the case history spans the page: the note column is not squeezed to a word a line
    widths = page.evaluate(
        "[document.querySelector('.case-history').offsetWidth,"
        " document.querySelector('main').clientWidth]"
    )
    assert widths[0] > 0.8 * widths[1]
    expect(page.get_by_role("region", name="Payment network")).to_be_visible()
    activity = page.locator("section").filter(has_text="The account's recent activity")
    expect(activity.locator("td.amount.credit").first).to_contain_text("+")
    doc_shot(web, "staff-fraud-alert")

    web.nav("Customers", "/customers")
    search = page.get_by_role("search", name="Find customers")
    search.get_by_label("Name, account number or email").fill("smith")
    search.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Bob Smith").first.click()
    web.ready()
    expect(page.locator("main h1")).to_have_text("Bob Smith")
    expect(page.get_by_text("Profile and KYC")).to_be_visible()
    expect(page.locator("main").get_by_text("[personal]").first).to_be_visible()  # no email
    cases = page.locator("section").filter(has_text="Alerts and cases")
    hers = cases.locator("tbody tr").filter(has_text="Farah Analyst")
    expect(hers).to_have_count(1)
    doc_shot(web, "staff-customer-view")
    customer_route = page.evaluate("location.hash").removeprefix("#")
    alert_route = (hers.get_by_role("link").first.get_attribute("href") or "").removeprefix("#")
    every_page_clean(web, [customer_route, alert_route, "/customers?q=bob"])


def test_compliance_officer_files_a_sar_and_closes_in_bulk(web: WebPage) -> None:
    page = web.page
    raise_alerts(web)
    sign_in_as(web, "compliance_officer")
    web.ready("/compliance")
    queue = page.get_by_role("search", name="Filter compliance alerts")
    queue.get_by_label("Rule").select_option("large_cash")
    queue.get_by_role("button", name="Filter").click()
    alerts = page.get_by_role("region", name="Compliance alert queue")
    row = alerts.locator("tbody tr").filter(has_text="large_cash").first
    expect(row).to_contain_text("Bob Smith")
    row.get_by_role("link").first.click()
    web.ready()
    actions = page.get_by_role("group", name="Actions")
    expect(actions.get_by_role("button", name="File report")).to_have_count(0)  # the SAR form
    sar = page.get_by_role("form", name="File a suspicious-activity report")
    sar.get_by_label("Activity").select_option("unusual_cash")
    sar.get_by_label("Narrative").fill(
        "Bob Smith paid in 15,000.00 in cash at the counter, far above his usual deposits; "
        "he gave no source for the money."
    )
    sar.get_by_role("button", name="File report").click()
    web.ready()
    expect(page.get_by_text("Reported", exact=True).first).to_be_visible()
    reports = page.get_by_role("region", name="Suspicious-activity reports")
    expect(reports).to_contain_text("SAR")
    expect(reports).to_contain_text("Connie Compliance")
    expect(reports).to_contain_text("far above his usual deposits")
    # done is done: a reported alert is not offered escalation again
    expect(actions.get_by_role("button", name="Escalate")).to_have_count(0)
    doc_shot(web, "staff-aml-sar")

    web.nav("AML & compliance", "/compliance")
    metrics = page.locator(".stat").filter(has_text="Reports filed")
    expect(metrics).to_contain_text("1")
    expect(metrics).to_contain_text("from 1 alert")
    expect(page.locator(".stat").filter(has_text="Unresolved AML alerts")).not_to_contain_text(
        "0.0 days"
    )
    queue.get_by_label("Status").select_option("")
    queue.get_by_role("button", name="Filter").click()
    alerts.get_by_role("checkbox", name="Select every open alert on this page").check()
    alerts.get_by_role("button", name="Close").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Note (kept in each alert's history)").fill("reviewed: SAR filed")
    dialog.get_by_role("button", name="Close them").click()
    expect(alerts.get_by_text(re.compile(r"Closed: \d+ alerts?\."))).to_be_visible()
    doc_shot(web, "staff-aml-queue")
    every_page_clean(web, [])


def test_manager_compares_periods_and_saves_a_report(web: WebPage) -> None:
    page = web.page
    sign_in_as(web, "financial_manager")
    web.ready("/reports")
    expect(page.locator(".stat .delta").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"vs\. the previous")).first).to_be_visible()
    saved = page.get_by_role("form", name="Save this report")
    saved.get_by_label("Name").fill("Volume by type")
    saved.get_by_role("button", name="Save").click()
    listing = page.get_by_role("region", name="Saved reports")
    expect(listing.get_by_role("button", name="Volume by type", exact=True)).to_be_visible()
    page.reload()
    web.ready("/reports")
    listing.get_by_role("button", name="Volume by type", exact=True).click()
    expect(page.get_by_text("Volume by type", exact=False).first).to_be_visible()
    doc_shot(web, "staff-reports")
    listing.get_by_role("button", name="Delete Volume by type").click()
    expect(listing.get_by_role("button", name="Volume by type", exact=True)).to_have_count(0)
    every_page_clean(web, [])


def test_auditor_ledgergpt_export_history_and_readable_audit(web: WebPage, tmp_path: Path) -> None:
    page = web.page
    sign_in_as(web, "auditor")
    web.ready("/ledgergpt")
    form = page.get_by_role("form", name="Ask LedgerGPT")
    form.get_by_label("Your question").fill("show the 5 largest transactions")
    form.get_by_role("button", name="Ask").click()
    answer = page.locator(".ledgergpt-answer table")
    expect(answer).to_be_visible()
    expect(
        answer.locator("td").filter(has_text=re.compile(r"\$[\d,]+\.\d\d")).first
    ).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    target = tmp_path / "answer.csv"
    download.value.save_as(target)
    assert target.read_text().splitlines()[0].count(",") >= 1
    history = page.get_by_role("region", name="Your questions")
    expect(history.get_by_role("button", name="show the 5 largest transactions")).to_be_visible()
    doc_shot(web, "staff-ledgergpt")

    web.nav("Audit log", "/audit")
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("user #")
    page.locator("main details summary").first.click()
    expect(page.locator("main dl.diff").first).to_be_visible()
    doc_shot(web, "staff-audit")
    every_page_clean(web, [])
