"""The PDF statement, downloaded through the statement route and read back with pypdf."""

from __future__ import annotations

import io
from datetime import timedelta

from analytics_bank import Bank, balances, month_start
from pypdf import PdfReader

from ledgerbank.kit.money import to_decimal_string


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def grouped(minor: int, currency: str) -> str:
    text = to_decimal_string(minor, currency)
    whole, _, fraction = text.lstrip("-").partition(".")
    return ("-" if minor < 0 else "") + f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def test_statement_pdf_shows_holder_period_balances_and_every_entry(bank: Bank) -> None:
    start, end = month_start(bank.now, 6), month_start(bank.now, 3)
    last_day = (end - timedelta(days=1)).date()
    answer = bank.get(
        "alice",
        f"/accounts/{bank.accounts['alice_checking']}/statement",
        format="pdf",
        **{"from": start.date().isoformat(), "to": last_day.isoformat()},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    pages, text = pdf_text(answer.content)
    number = bank.account_number("alice_checking")
    assert "Alice Example" in text
    assert " ".join(number[i : i + 4] for i in range(0, 12, 4)) in text
    assert f"{start:%d %b %Y} to {last_day:%d %b %Y}" in text
    opening = balances(bank, start)["alice_checking"]
    closing = balances(bank, end)["alice_checking"]
    summary = text[text.index("Opening balance") :]
    assert grouped(opening, "USD") in summary
    assert grouped(closing, "USD") in summary
    mine = [
        op
        for op in bank.ops
        if "alice_checking" in (op.source, op.target) and op.booked and start <= op.at < end
    ]
    assert mine
    for op in mine:
        assert f"#{op.transaction_id}" in text
        assert grouped(op.minor, "USD") in text
    assert f"Page {pages} of {pages}" in text


def test_statement_pdf_of_an_empty_period_and_of_another_customer(bank: Bank) -> None:
    account = bank.accounts["carol_yen"]
    answer = bank.get(
        "carol",
        f"/accounts/{account}/statement",
        format="pdf",
        **{"from": "2001-01-01", "to": "2001-01-31"},
    )
    assert answer.status_code == 200
    pages, text = pdf_text(answer.content)
    assert pages == 1
    assert "No entries in this period." in text
    assert "JPY" in text
    theirs = bank.get("alice", f"/accounts/{account}/statement", format="pdf")
    assert theirs.status_code == 404
