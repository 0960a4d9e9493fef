"""The second round's families of phrasing, in sentences that are in neither question set:
the parser learned the families, not the evaluation's sentences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_ledgergpt_parser import plan

from ledgerbank.errors import NotUnderstood
from ledgerbank.identity.permissions import Role
from ledgerbank.ledgergpt.allowlist import readable_views
from ledgerbank.ledgergpt.compiler import compile_plan
from ledgerbank.ledgergpt.gate import check
from ledgerbank.ledgergpt.parser import FLAGGED_READING
from ledgerbank.ledgergpt.plan import GroupKey, Metric, SortKey


def sql(question: str, dialect: str = "sqlite") -> str:
    compiled = compile_plan(plan(question), dialect=dialect, readable=readable_views(Role.AUDITOR))
    checked = check(
        compiled.sql,
        dialect=dialect,
        readable=readable_views(Role.AUDITOR),
        row_limit=100,
        params=compiled.params.keys(),
    )
    return checked.sql


def test_the_receiving_side_and_the_paying_side() -> None:
    assert plan("payments bob received in March").recipients == ("bob",)
    assert plan("transfers sent by alice").senders == ("alice",)
    assert plan("withdrawals made by carol").senders == ("carol",)
    assert plan("deposits made by carol").recipients == ("carol",)
    who = plan("who paid carol")
    assert who.recipients == ("carol",)
    assert who.group_by == (GroupKey.SENDER,)
    top = plan("which 2 customers received the most")
    assert (top.group_by, top.limit) == ((GroupKey.RECIPIENT,), 2)
    assert plan("largest payers by amount").group_by == (GroupKey.SENDER,)


def test_a_total_over_all_is_one_figure_per_currency() -> None:
    total = plan("total deposits of all customers this year")
    assert (total.metric, total.group_by) == (Metric.TOTAL, ())
    per_customer = plan("total deposits per customer this year")
    assert per_customer.group_by == (GroupKey.CUSTOMER,)
    assert plan("combined balance of every account").metric is Metric.TOTAL


def test_flagged_by_staff_and_saying_which_flagged_was_meant() -> None:
    by_hand = plan("transactions marked by an investigator")
    assert by_hand.staff_flagged
    assert not by_hand.flagged
    assert plan("hand-flagged transfers").staff_flagged
    either = plan("flagged withdrawals")
    assert either.flagged
    assert either.readings == (FLAGGED_READING,)
    assert "flag_count > 0" in sql("hand-flagged transfers")


def test_leaving_things_out() -> None:
    assert plan("withdrawals except for carol").exclude_customers == ("carol",)
    assert plan("accounts that are not frozen").exclude_account_statuses == ("frozen",)
    assert plan("transactions excluding fees and reversals").exclude_transaction_types == (
        "fee",
        "reversal",
    )
    with pytest.raises(NotUnderstood):
        plan("transfers not to alice")  # "not" before something it cannot leave out


def test_above_and_below_the_average_of_their_kind() -> None:
    above = plan("deposits greater than the average deposit last month")
    assert above.versus_average == "above"
    assert above.period is not None
    assert plan("accounts with balances below average").versus_average == "below"
    text = sql("deposits greater than the average deposit last month", "postgresql")
    assert "AVG(amount)" in text
    assert "asked.currency" in text


def test_comparing_periods_counts_per_group_and_other_phrasings() -> None:
    compared = plan("compare withdrawals in January vs February")
    assert compared.period is not None
    assert (compared.period.start, compared.period.end) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert compared.group_by == (GroupKey.MONTH,)
    per_customer = plan("customers with more than 5 transactions")  # a count, not an amount
    assert (per_customer.group_by, per_customer.having_count) == ((GroupKey.CUSTOMER,), ("gt", 5))
    having = plan("customers having at least 3 accounts")
    assert having.having_count == ("ge", 3)
    assert "HAVING COUNT(*) >=" in sql("customers having at least 3 accounts")
    since = plan("transfers since the beginning of the month").period
    assert since is not None
    assert since.start == datetime(2026, 3, 1, tzinfo=UTC)
    assert since.end is None
    floor = plan("deposits no smaller than 100 dollars").amount
    assert floor is not None
    assert (floor.minimum, floor.include_minimum) == (100, True)
    ranked = plan("which 4 accounts hold the most")
    assert ranked.limit == 4
    assert ranked.order is not None
    assert ranked.order.key in (SortKey.AMOUNT, SortKey.VALUE)
