"""A query plan in words, so the asker can check what was understood (and which reading of
a word with two meanings was used)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ledgerbank.ledgergpt.plan import QueryPlan, SortKey, Subject


def _money_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d") if moment.time() == datetime.min.time() else str(moment)


def explain(plan: QueryPlan, notes: list[str] | None = None) -> str:
    """The plan in words, so the asker can check what was understood."""
    subject = plan.subject.value.replace("_", " ")
    parts: list[str] = []
    if plan.transaction_types:
        subject = " and ".join(f"{t}s" for t in plan.transaction_types)
    qualifiers = [
        *plan.transaction_statuses,
        *plan.account_statuses,
        *plan.account_types,
        *(v.lower() for v in plan.verdicts),
        *(["flagged"] if plan.flagged else []),
        *plan.kyc_statuses,
        *plan.alert_statuses,
        *(f"{q} queue" for q in plan.alert_queues),
        *(f"{s} severity" for s in plan.severities),
    ]
    if plan.subject is Subject.CUSTOMERS and plan.roles != ("customer",):
        subject = "users"
    if plan.roles and plan.roles != ("customer",):
        qualifiers.append("/".join(plan.roles))
    if qualifiers:
        subject = f"{', '.join(qualifiers)} {subject}"
    if plan.customers:
        parts.append(
            ("about " if plan.subject is Subject.AUDIT_EVENTS else "of ")
            + ", ".join(plan.customers)
        )
    if plan.between is not None:
        parts.append(f"between {plan.between[0]} and {plan.between[1]}")
    if plan.senders:
        parts.append("from " + ", ".join(plan.senders))
    if plan.recipients:
        parts.append("to " + ", ".join(plan.recipients))
    if plan.actors:
        parts.append("done by " + ", ".join(plan.actors))
    if plan.actions:
        parts.append("with action " + " or ".join(a.replace("%", "*") for a in plan.actions))
    if plan.account_numbers:
        parts.append("on account " + ", ".join(plan.account_numbers))
    if plan.transaction_ids:
        parts.append("with id " + ", ".join(str(i) for i in plan.transaction_ids))
    if plan.currencies:
        parts.append("in " + ", ".join(plan.currencies))
    if plan.description_contains:
        parts.append(f"whose description mentions '{plan.description_contains}'")
    if plan.active is not None:
        parts.append("active" if plan.active else "deactivated")
    if plan.staff_flagged:
        parts.append("flagged by staff")
    excluded = [
        *plan.exclude_customers,
        *(f"{t}s" for t in plan.exclude_transaction_types),
        *plan.exclude_transaction_statuses,
        *plan.exclude_account_statuses,
        *(f"{t} accounts" for t in plan.exclude_account_types),
    ]
    if excluded:
        parts.append("excluding " + ", ".join(excluded))
    if plan.versus_average is not None:
        what = "balance" if plan.subject is Subject.ACCOUNTS else "amount"
        parts.append(f"{what} {plan.versus_average} the average")
    if plan.amount is not None:
        amount = plan.amount
        what = "balance" if plan.subject is Subject.ACCOUNTS else "amount"
        unit = f" {amount.currency}" if amount.currency else ""
        if amount.minimum is not None and amount.minimum == amount.maximum:
            parts.append(f"{what} exactly {_money_text(amount.minimum)}{unit}")
        else:
            if amount.minimum is not None:
                word = "at least" if amount.include_minimum else "over"
                parts.append(f"{what} {word} {_money_text(amount.minimum)}{unit}")
            if amount.maximum is not None:
                word = "at most" if amount.include_maximum else "under"
                parts.append(f"{what} {word} {_money_text(amount.maximum)}{unit}")
    if plan.period is not None:
        start = _when(plan.period.start) if plan.period.start else "the beginning"
        end = f"before {_when(plan.period.end)}" if plan.period.end else "until now"
        parts.append(f"from {start} {end} (UTC)")
    text = subject[0].upper() + subject[1:]
    if parts:
        text += " " + ", ".join(parts)
    if plan.metric is not None:
        figure = {"count": "number", "total": "total", "average": "average",
                  "largest": "largest", "smallest": "smallest"}[plan.metric.value]  # fmt: skip
        text = f"The {figure} of: {text[0].lower()}{text[1:]}"
        if plan.group_by:
            text += ", by " + " and ".join(k.value.replace("_", " ") for k in plan.group_by)
        if plan.having_count is not None:
            op, count = plan.having_count
            words = {"gt": "more than", "ge": "at least", "lt": "fewer than",
                     "le": "at most", "eq": "exactly"}[op]  # fmt: skip
            text += f", keeping groups with {words} {count}"
    if plan.order is not None:
        direction = "descending" if plan.order.descending else "ascending"
        key = {SortKey.VALUE: plan.metric.value if plan.metric else "value"}.get(
            plan.order.key, plan.order.key.value
        )
        text += f"; ordered by {key}, {direction}"
    if plan.limit is not None:
        text += f"; the first {plan.limit}"
    for note in notes or ():
        text += f". Note: {note}"
    return text + "."
