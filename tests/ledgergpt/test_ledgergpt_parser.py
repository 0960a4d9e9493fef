"""The offline engine's understanding: plain English -> typed plan -> SQL, without a database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ledgerbank.errors import NotUnderstood
from ledgerbank.identity.permissions import Role
from ledgerbank.ledgergpt.allowlist import readable_views
from ledgerbank.ledgergpt.compiler import compile_plan
from ledgerbank.ledgergpt.facts import Person
from ledgerbank.ledgergpt.parser import parse
from ledgerbank.ledgergpt.plan import GroupKey, Metric, QueryPlan, SortKey, Subject
from ledgerbank.ledgergpt.service import looks_like_sql

TODAY = date(2026, 3, 18)  # a Wednesday
PEOPLE = [
    Person("alice", "Alice Johnson", "customer"),
    Person("bob", "Bob Smith", "customer"),
    Person("bobby", "Bob Jones", "customer"),
    Person("carol", "Carol Martinez", "customer"),
    Person("admin", "Ada Admin", "admin"),
]


class People:
    """The directory as a plain list (the service looks the same names up in the database)."""

    def find(self, words: Sequence[str]) -> list[Person]:
        wanted = set(words)
        return [
            p for p in PEOPLE if p.username in wanted or wanted & set(p.full_name.lower().split())
        ]


def plan(question: str) -> QueryPlan:
    return parse(question, today=TODAY, directory=People())


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("deposits yesterday", "2026-03-17", "2026-03-18"),
        ("deposits today", "2026-03-18", "2026-03-19"),
        ("withdrawals last month", "2026-02-01", "2026-03-01"),
        ("transfers this month", "2026-03-01", "2026-04-01"),
        ("transfers in March", "2026-03-01", "2026-04-01"),
        ("transfers in December", "2025-12-01", "2026-01-01"),  # the most recent December
        ("transfers in March last year", "2025-03-01", "2025-04-01"),
        ("transfers in march 2024", "2024-03-01", "2024-04-01"),
        ("deposits this year", "2026-01-01", "2027-01-01"),
        ("deposits last year", "2025-01-01", "2026-01-01"),
        ("deposits in 2024", "2024-01-01", "2025-01-01"),
        ("deposits this week", "2026-03-16", "2026-03-23"),
        ("deposits last week", "2026-03-09", "2026-03-16"),
        ("deposits in the last 7 days", "2026-03-12", "2026-03-19"),
        ("deposits on 2026-02-14", "2026-02-14", "2026-02-15"),
        ("deposits on march 5", "2026-03-05", "2026-03-06"),
        ("deposits between 2026-01-05 and 2026-01-10", "2026-01-05", "2026-01-11"),
        ("deposits in q1", "2026-01-01", "2026-04-01"),
        ("deposits last quarter", "2025-10-01", "2026-01-01"),
    ],
)
def test_time_phrases_become_utc_periods(question: str, start: str, end: str) -> None:
    period = plan(question).period
    assert period is not None
    assert (period.start, period.end) == (at(start), at(end))


def test_open_ended_periods() -> None:
    since = plan("transfers since 2026-01-01").period
    assert since is not None
    assert (since.start, since.end) == (at("2026-01-01"), None)
    before = plan("transfers before 2026-02-01").period
    assert before is not None
    assert (before.start, before.end) == (None, at("2026-02-01"))
    after = plan("transfers after 2026-02-01").period
    assert after is not None
    assert after.start == at("2026-02-02")


@pytest.mark.parametrize(
    ("question", "minimum", "maximum", "include_min", "include_max", "currency"),
    [
        ("find transfers over $500", "500", None, False, True, "USD"),
        ("transactions between 100 and 200", "100", "200", True, True, None),
        ("withdrawals under 50 euros", None, "50", True, False, "EUR"),
        ("deposits of at least 1,000", "1000", None, True, True, None),
        ("deposits above 5k usd", "5000", None, False, True, "USD"),
        ("transfers of exactly $12.50", "12.50", "12.50", True, True, "USD"),
    ],
)
def test_amounts(
    question: str,
    minimum: str | None,
    maximum: str | None,
    include_min: bool,
    include_max: bool,
    currency: str | None,
) -> None:
    amount = plan(question).amount
    assert amount is not None
    assert amount.minimum == (Decimal(minimum) if minimum else None)
    assert amount.maximum == (Decimal(maximum) if maximum else None)
    assert (amount.currency, amount.include_minimum, amount.include_maximum) == (
        currency,
        include_min if minimum else True,
        include_max if maximum else True,
    )


def test_the_originals_three_examples() -> None:
    alice = plan("show all transactions for alice")
    assert (alice.subject, alice.customers, alice.metric) == (
        Subject.TRANSACTIONS,
        ("alice",),
        None,
    )
    transfers = plan("find transfers over $500")
    assert transfers.transaction_types == ("transfer",)
    assert plan("show flagged transactions").flagged


def test_people_by_direction_name_and_possessive() -> None:
    moved = plan("transfers from alice to carol")
    assert (moved.senders, moved.recipients) == (("alice",), ("carol",))
    assert plan("payments by Alice Johnson").customers == ("alice",)
    assert plan("show carol's deposits").customers == ("carol",)
    audit = plan("who changed bob's role")
    assert (audit.subject, audit.customers, audit.actions) == (
        Subject.AUDIT_EVENTS,
        ("bob",),
        ("%role%",),
    )
    assert plan("audit events by admin").actors == ("admin",)
    assert plan("deposits alice received last month").recipients == ("alice",)
    assert plan("what did carol send").senders == ("carol",)
    assert plan("transfers between alice and carol").between == ("alice", "carol")
    assert plan("show me yesterday's withdrawals").period is not None


def test_figures_groups_and_rankings() -> None:
    monthly = plan("total deposits by month this year")
    assert (monthly.metric, monthly.group_by) == (Metric.TOTAL, (GroupKey.MONTH,))
    top = plan("top 5 customers by balance")
    assert (top.subject, top.metric, top.group_by, top.limit) == (
        Subject.ACCOUNTS,
        Metric.TOTAL,
        (GroupKey.CUSTOMER,),
        5,
    )
    assert top.order is not None
    assert top.order.key is SortKey.VALUE
    assert top.order.descending
    largest = plan("largest transfer this year")
    assert (largest.metric, largest.limit) == (None, 1)
    assert largest.order is not None
    assert largest.order.key is SortKey.AMOUNT
    per_customer = plan("largest withdrawal by customer")
    assert (per_customer.metric, per_customer.limit) == (Metric.LARGEST, None)
    recent = plan("5 most recent transactions")
    assert recent.order is not None
    assert recent.order.key is SortKey.DATE
    assert recent.limit == 5
    assert plan("transactions per month").metric is Metric.COUNT
    assert plan("which accounts are frozen").account_statuses == ("frozen",)


@pytest.mark.parametrize(
    "question",
    [
        "what is the meaning of life",
        "show transactions for unicorns",
        "transactions not for alice",  # a negation is never dropped silently
        "transactions with more than 5 accounts",  # a count condition with nothing to count per
        "accounts frozen last week",  # accounts are dated by opening only
        "transactions over 500 and under 20 and above 3",
        "deposits on 2026-02-30",
        "show me 500",
        "",
        "show " + "transactions " * 60,
    ],
)
def test_what_it_does_not_understand_it_says(question: str) -> None:
    with pytest.raises(NotUnderstood) as raised:
        plan(question)
    assert raised.value.extra["suggestions"]


def test_an_ambiguous_first_name_asks_for_the_username() -> None:
    both = plan("transactions for bob jones and bob")  # a full name, then a username
    assert set(both.customers) == {"bobby", "bob"}
    with pytest.raises(NotUnderstood) as ambiguous:
        parse(
            "transactions of smith",
            today=TODAY,
            directory=_Twins(),
        )
    assert "several people" in ambiguous.value.detail


class _Twins:
    def find(self, words: Sequence[str]) -> list[Person]:
        return [
            Person("bsmith", "Bob Smith", "customer"),
            Person("asmith", "Ann Smith", "customer"),
        ]


@pytest.mark.parametrize(
    ("text", "is_sql"),
    [
        ("SELECT * FROM vw_customers", True),
        ("select username from users", True),
        ("DROP TABLE users", True),
        ("show transactions; drop table users", True),
        ("alice' -- ", True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", True),
        ("show all transactions for alice", False),
        ("select all deposits over 500", False),
        ("which accounts are frozen", False),
        ("with the most deposits, which customers", False),
    ],
)
def test_sql_is_told_from_english(text: str, is_sql: bool) -> None:
    assert looks_like_sql(text) is is_sql


@pytest.mark.parametrize(
    ("dialect", "month"),
    [("sqlite", "STRFTIME('%Y-%m'"), ("postgresql", "TO_CHAR("), ("mysql", "DATE_FORMAT(")],
)
def test_values_are_bound_never_written_into_the_sql(dialect: str, month: str) -> None:
    compiled = compile_plan(
        plan("total transfers from alice over $500 in March by month"),
        dialect=dialect,
        readable=readable_views(Role.AUDITOR),
    )
    assert month in compiled.sql
    for literal in ("alice", "500", "2026", "transfer"):
        assert literal not in compiled.sql
    assert set(compiled.params.values()) >= {"alice", "transfer", Decimal(500), "USD"}
    assert compiled.params["start_0"] == at("2026-03-01")


def test_columns_follow_the_askers_role() -> None:
    customers = plan("list all customers")
    auditor = compile_plan(customers, dialect="sqlite", readable=readable_views(Role.AUDITOR))
    officer = compile_plan(
        customers, dialect="sqlite", readable=readable_views(Role.COMPLIANCE_OFFICER)
    )
    assert "email" not in auditor.sql
    assert "email" in officer.sql
