"""The offline engine's understanding: a plain-English question becomes a `QueryPlan`.

Every word must find a place: a filter, a grouping, an ordering, a person, or a known filler.
A word left over, a negation, or a filter the subject cannot take makes the parser answer
`NotUnderstood` with suggestions, so it never guesses silently.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ledgerbank.errors import NotUnderstood
from ledgerbank.ledgergpt import vocabulary as vocab
from ledgerbank.ledgergpt.facts import Directory, Facts, read_facts
from ledgerbank.ledgergpt.periods import intersect
from ledgerbank.ledgergpt.plan import (
    AmountFilter,
    GroupKey,
    Metric,
    Order,
    Period,
    QueryPlan,
    SortKey,
    Subject,
)
from ledgerbank.ledgergpt.reading import MAX_QUESTION_LENGTH, Reading, read
from ledgerbank.ledgergpt.subjects import subject_of, union, unit_of

DEFAULT_TOP = 10
# "the total balance of all customers": one figure (per currency), not one per customer
_GRAND_TOTAL = re.compile(
    r"\b(?:all|every)\s+(?:of\s+)?(?:the\s+|our\s+)?(?:customers?|clients?|users?|accounts?|"
    r"people|account holders?)\b"
)
FLAGGED_READING = (
    "'flagged' read as flagged by the risk screen or by staff; ask 'flagged by staff' for "
    "what staff flagged by hand"
)


def not_understood(detail: str, topic: str | None = None) -> NotUnderstood:
    return NotUnderstood(detail, suggestions=vocab.suggestions(topic))


# --- facts -> plan ----------------------------------------------------------------------


def parse(question: str, *, today: date, directory: Directory) -> QueryPlan:
    """Understand `question` or raise NotUnderstood (with suggestions)."""
    if len(question) > MAX_QUESTION_LENGTH:
        raise not_understood(f"questions are limited to {MAX_QUESTION_LENGTH} characters")
    reading = read(question, today)
    if not reading.words and not reading.spans:
        raise not_understood("the question is empty")
    facts = read_facts(reading, directory)
    if reading.contains:
        facts.add("described", "")
    subject = subject_of(facts)
    topic = subject.value if subject else None
    if facts.negations:
        raise not_understood(
            f"I cannot answer questions with '{facts.negations[0]}' yet; ask for what to "
            "include instead",
            topic,
        )
    if facts.unknown:
        listed = ", ".join(f"'{w}'" for w in dict.fromkeys(facts.unknown))
        raise not_understood(f"I do not know what {listed} means here", topic)
    if reading.bad_dates:
        raise not_understood(f"'{reading.bad_dates[0]}' is not a date", topic)
    if subject is None:
        raise not_understood("I could not tell whether this is about transactions, accounts, "
                             "customers or the audit trail")  # fmt: skip
    builder = _Builder(reading, facts, subject)
    return builder.build()


class _Builder:
    """Turns facts into a plan for one subject, refusing facts the subject cannot take."""

    def __init__(self, reading: Reading, facts: Facts, subject: Subject) -> None:
        self.reading = reading
        self.facts = facts
        self.subject = subject
        self.fields: dict[str, Any] = {"subject": subject}
        self.used: set[str] = set()

    def refuse(self, detail: str) -> NotUnderstood:
        return not_understood(detail, self.subject.value)

    def use(self, *kinds: str) -> None:
        self.used.update(kinds)

    def build(self) -> QueryPlan:
        handler = {
            Subject.TRANSACTIONS: self._transactions,
            Subject.ACCOUNTS: self._accounts,
            Subject.CUSTOMERS: self._customers,
            Subject.AUDIT_EVENTS: self._audit,
            Subject.ALERTS: self._alerts,
            Subject.BALANCE_SHEET: self._ledger_view,
            Subject.INTEGRITY: self._ledger_view,
        }[self.subject]
        handler()
        self._check_everything_used()
        return QueryPlan(**self.fields)

    # -- shared pieces --

    def _period(self, *, needs_created_word: bool = False) -> None:
        spans = self.reading.spans
        if not spans:
            return
        if needs_created_word and not self.facts.has("created"):
            noun = "accounts" if self.subject is Subject.ACCOUNTS else "customers"
            verb = "opened" if noun == "accounts" else "joined"
            raise self.refuse(
                f"I can only filter {noun} by when they were {verb}; for changes over time "
                "ask the audit trail (e.g. 'who froze accounts last week')"
            )
        compared = self.facts.has("compare") and len(spans) >= 2
        period = union(spans) if compared else intersect(spans)
        self.use("compare")
        if compared and not self.facts.groups and not self.facts.values("group"):
            self.facts.groups.append(unit_of(spans))  # one row per period compared
        if period is None:
            raise self.refuse("those dates do not overlap")
        self.fields["period"] = Period(start=period.start, end=period.end, label=period.label)
        self.use("created")

    def _amount(self, *, what: str) -> None:
        amounts = self.reading.amounts
        if not amounts:
            return
        if len(amounts) > 1:
            raise self.refuse(f"ask about one range of {what} at a time")
        op, low, high, currency = amounts[0]
        bounds: dict[str, Any] = {"currency": currency}
        if op == "between":
            bounds.update(minimum=low, maximum=high)
        elif op in ("gt", "ge"):
            bounds.update(minimum=low, include_minimum=op == "ge")
        elif op in ("lt", "le"):
            bounds.update(maximum=low, include_maximum=op == "le")
        else:
            bounds.update(minimum=low, maximum=low)
        self.fields["amount"] = AmountFilter(**bounds)

    def _people_as(self, default: str, by_lead: dict[str, str]) -> None:
        for mention in self.facts.people:
            target = by_lead.get(mention.lead, default)
            self.fields.setdefault(target, ())
            if mention.person.username not in self.fields[target]:
                self.fields[target] += (mention.person.username,)

    def _groups(self, allowed: dict[str, GroupKey]) -> list[GroupKey]:
        wanted = list(self.facts.groups) + list(self.facts.values("group"))
        keys: list[GroupKey] = []
        for name in wanted:
            if name not in allowed:
                raise self.refuse(f"I cannot group {self.subject.value} by {name}")
            if allowed[name] not in keys:
                keys.append(allowed[name])
        if len(keys) > 2:
            raise self.refuse("group by at most two things at a time")
        self.use("group")
        return keys

    def _limit_words(self) -> tuple[int | None, str]:
        limits = self.reading.limits
        if len(limits) > 1:
            raise self.refuse("ask for one number of rows at a time")
        return (limits[0][0], limits[0][1]) if limits else (None, "")

    def _metric(self) -> Metric | None:
        metrics = self.facts.values("metric")
        if len(metrics) > 1:
            raise self.refuse("ask for one figure at a time (a count, a total or an average)")
        self.use("metric")
        return Metric(metrics[0]) if metrics else None

    def _singular(self) -> bool:
        return bool(self.facts.singular_nouns) or self.facts.has("who")

    def _shape(self, *, groups: dict[str, GroupKey], measure_word: str) -> None:
        """Metric, grouping, ordering and limit, shared by transactions and accounts."""
        facts = self.facts
        metric = self._metric()
        keys = self._groups(groups)
        limit, limit_word = self._limit_words()
        extremes = facts.values("extreme")
        if limit_word in ("largest", "biggest", "highest", "top"):
            extremes = extremes or ["largest"]
        if limit_word in ("smallest", "lowest", "bottom"):
            extremes = extremes or ["smallest"]
        recency = facts.values("recency")
        if limit_word in ("last", "latest", "newest", "recent"):
            recency = ["newest"]
        elif limit_word in ("first", "oldest", "earliest"):
            recency = ["oldest"]
        ranked = (
            facts.has("top")
            or facts.has("most")
            or facts.has("least")
            or facts.has("bottom")
            or bool(facts.ranking_measures)
            or (facts.has("who") and bool(keys) and not facts.people)
        )
        self.use("extreme", "recency", "top", "most", "least", "bottom", "order", "who")
        descending = not (facts.has("least") or facts.has("bottom"))
        if extremes and not ranked:
            descending = extremes[0] == "largest"
        if metric is None and ranked and keys:
            metric = self._ranking_metric()
        per_group_extreme = False
        if metric is None and extremes and keys:
            metric = Metric.LARGEST if extremes[0] == "largest" else Metric.SMALLEST
            per_group_extreme = not (ranked or limit)
        if metric is None and keys:
            metric = Metric.COUNT  # "transactions per month": how many in each
        self.fields["metric"] = metric
        self.fields["group_by"] = tuple(keys)
        explicit = self._explicit_order()
        if explicit is not None:
            self.fields["order"] = explicit
            self.fields["limit"] = limit
            return
        if keys and metric is not None and (ranked or extremes or limit) and not per_group_extreme:
            self.fields["order"] = Order(key=SortKey.VALUE, descending=descending)
            self.fields["limit"] = limit or (1 if self._singular() else DEFAULT_TOP)
        elif not keys and metric is None and (extremes or ranked):
            self.fields["order"] = Order(key=SortKey.AMOUNT, descending=descending)
            self.fields["limit"] = limit or (1 if self._singular() else DEFAULT_TOP)
        elif not keys and metric is None and recency:
            self.fields["order"] = Order(key=SortKey.DATE, descending=recency[0] == "newest")
            self.fields["limit"] = limit or (1 if self._singular() else DEFAULT_TOP)
        elif ranked and not keys:
            raise self.refuse(f"rank {measure_word} by what? e.g. 'top 5 customers by balance'")
        else:
            self.fields["limit"] = limit

    def _ranking_metric(self) -> Metric:
        measures = self.facts.ranking_measures
        counted = "count" in measures or (self.facts.has("most") and not self.facts.has("money"))
        if counted and "balance" not in measures and "amount" not in measures:
            return Metric.COUNT
        return Metric.TOTAL

    def _explicit_order(self) -> Order | None:
        keys = self.facts.sort_keys
        orders = self.facts.values("order")
        if not keys and not orders:
            return None
        key = keys[0] if keys else ""
        descending = not any(o in ("asc", "date_asc") for o in orders)
        if "date_desc" in orders or "date_asc" in orders or key in ("date", "day"):
            return Order(
                key=SortKey.DATE, descending=(descending and key != "") or "date_desc" in orders
            )
        if key in ("name", "customer"):
            return Order(key=SortKey.NAME, descending="desc" in orders)
        if self.fields.get("group_by"):
            return Order(key=SortKey.VALUE, descending=descending)
        return Order(key=SortKey.AMOUNT, descending=descending)

    def _check_everything_used(self) -> None:
        """A fact no part of the plan took means a filter would be silently dropped."""
        facts = self.facts
        ignorable = {
            "noun", "word", "have", "money", "change", "who", "when", "sort_by", "by", "measure",
            "described", "excluded",
        }  # fmt: skip
        for kind in facts.tags:
            if kind in ignorable or kind in self.used:
                continue
            value = facts.tags[kind][0]
            raise self.refuse(
                f"I cannot use '{value or kind}' in a question about {self.subject.value}"
            )
        if self.reading.amounts and "amount" not in self.fields:
            raise self.refuse(f"I cannot filter {self.subject.value} by an amount")
        if self.reading.spans and "period" not in self.fields:
            raise self.refuse(f"I cannot filter {self.subject.value} by dates")
        if self.reading.limits and "limit" not in self.fields:
            raise self.refuse("I cannot limit this answer to a number of rows")
        if self.reading.having and "having_count" not in self.fields:
            raise self.refuse("I can compare a count with a number only per customer or group")
        if self.facts.people and not any(
            k in self.fields
            for k in (
                "customers",
                "senders",
                "recipients",
                "actors",
                "between",
                "exclude_customers",
            )
        ):
            raise self.refuse(f"I cannot filter {self.subject.value} by a person")
        if self.reading.currencies and not self.fields.get("currencies"):
            raise self.refuse(f"I cannot filter {self.subject.value} by currency")
        unused = [
            (label, getattr(self.reading, attribute))
            for label, attribute, field_name in (
                ("account numbers", "account_numbers", "account_numbers"),
                ("transaction ids", "transaction_ids", "transaction_ids"),
                ("descriptions", "contains", "description_contains"),
            )
            if getattr(self.reading, attribute) and field_name not in self.fields
        ]
        if unused:
            raise self.refuse(f"I cannot filter {self.subject.value} by {unused[0][0]}")

    # -- subjects --

    def _transactions(self) -> None:
        facts = self.facts
        self.fields["transaction_types"] = tuple(facts.values("ttype"))
        self.fields["transaction_statuses"] = tuple(facts.values("tstatus"))
        self.fields["verdicts"] = tuple(facts.values("verdict"))
        self.fields["flagged"] = facts.has("flagged") and not facts.has("flagged_staff")
        self.fields["staff_flagged"] = facts.has("flagged_staff")
        if self.fields["flagged"]:
            self._reading(FLAGGED_READING)
        self.fields["account_types"] = tuple(facts.values("atype"))
        self.fields["currencies"] = tuple(dict.fromkeys(self.reading.currencies))
        self.use("ttype", "tstatus", "verdict", "flagged", "flagged_staff", "atype", "action")
        self.use("direction", "party")
        self._exclusions()
        self._versus_average()
        self._transaction_people()
        if self.reading.account_numbers:
            self.fields["account_numbers"] = tuple(self.reading.account_numbers)
        if self.reading.transaction_ids:
            self.fields["transaction_ids"] = tuple(self.reading.transaction_ids)
        if self.reading.contains:
            self.fields["description_contains"] = self.reading.contains[0]
        self._amount(what="amounts")
        self._period()
        side = self._side_asked()
        if side and not facts.groups:
            facts.groups.append(side)
        elif self._asks_for_people() and not facts.groups and not self._grand_total():
            facts.groups.append("customer")
        self._shape(
            groups={
                k: GroupKey(k)
                for k in (
                    "day",
                    "month",
                    "year",
                    "type",
                    "status",
                    "currency",
                    "customer",
                    "account",
                    "account_type",
                    "sender",
                    "recipient",
                )
            }
            | {"verdict": GroupKey.VERDICT},
            measure_word="transactions",
        )
        self._having()

    def _transaction_people(self) -> None:
        """From/to by preposition; "alice received" / "bob sent" by verb; "between" a pair."""
        facts = self.facts
        if facts.has("between"):
            if len(facts.people) != 2:
                raise self.refuse(
                    "'between' needs two people, e.g. 'transfers between alice and bob'"
                )
            self.use("between")
            first, second = facts.people
            self.fields["between"] = (first.person.username, second.person.username)
            return
        directions = facts.values("direction")
        unled = {"": "", "_poss": ""}
        if len(directions) == 1 and len(facts.people) == 1 and facts.people[0].lead in unled:
            target = "recipients" if directions[0] == "to" else "senders"
            if facts.has("who"):  # "who paid carol": the one named is the other side
                target = "senders" if target == "recipients" else "recipients"
            self.fields[target] = (facts.people[0].person.username,)
            return
        # "sent by alice", "payments made by bob": the side the verb names
        by = "customers"
        if len(directions) == 1:
            by = "recipients" if directions[0] == "to" else "senders"
        elif "made" in self.reading.words:
            deposits = set(facts.values("ttype")) == {"deposit"}
            by = "recipients" if deposits else "senders"
        leads = {"from": "senders", "to": "recipients", "into": "recipients", "by": by}
        leads |= dict.fromkeys(vocab.EXCLUDERS, "exclude_customers")
        self._people_as("customers", leads)

    def _side_asked(self) -> str:
        """ "Who sent money to mallory", "which customers received the most", "top payees":
        one row per sender or recipient."""
        facts = self.facts
        parties = facts.values("party")
        if parties:
            return parties[0]
        directions = facts.values("direction")
        if len(directions) != 1 or not (facts.has("who") or self._asks_for_people(named=True)):
            return ""
        if facts.people and not self.fields.get("senders") and not self.fields.get("recipients"):
            return ""
        # the side not named: "who sent money to mallory" -> the senders
        if self.fields.get("recipients"):
            return "sender"
        if self.fields.get("senders"):
            return "recipient"
        return "recipient" if directions[0] == "to" else "sender"

    def _grand_total(self) -> bool:
        return bool(_GRAND_TOTAL.search(self.reading.text)) and bool(self.facts.values("metric"))

    def _reading(self, note: str) -> None:
        self.fields["readings"] = (*self.fields.get("readings", ()), note)

    def _exclusions(self) -> None:
        facts = self.facts
        for kind, field in (
            ("not_ttype", "exclude_transaction_types"),
            ("not_tstatus", "exclude_transaction_statuses"),
            ("not_astatus", "exclude_account_statuses"),
            ("not_atype", "exclude_account_types"),
        ):
            if facts.has(kind):
                self.fields[field] = tuple(facts.values(kind))
        self.use("not_ttype", "not_tstatus", "not_astatus", "not_atype")

    def _versus_average(self) -> None:
        found = self.facts.values("versus_average")
        if len(found) > 1:
            raise self.refuse("ask for above or below the average, not both")
        if found:
            self.fields["versus_average"] = found[0]
        self.use("versus_average")

    def _having(self) -> None:
        having = self.reading.having
        if not having:
            return
        if len(having) > 1 or not self.fields.get("group_by"):
            raise self.refuse("I can compare one count with a number, per customer or group")
        if self.fields.get("metric") not in (None, Metric.COUNT):
            raise self.refuse("compare a number of things, e.g. 'customers with more than 2 "
                              "accounts'")  # fmt: skip
        self.fields["metric"] = Metric.COUNT
        self.fields["having_count"] = having[0]

    def _asks_for_people(self, *, named: bool = False) -> bool:
        """ "Which customers ..." / "who ..." over transactions or balances: one row per person
        (`named`: even when the question names someone, as the other side)."""
        facts = self.facts
        if facts.people and not named:
            return False
        return facts.has("noun", "customers") or facts.has("noun", "users") or facts.has("who")

    def _accounts(self) -> None:
        facts = self.facts
        self.fields["account_statuses"] = tuple(facts.values("astatus"))
        self.fields["account_types"] = tuple(facts.values("atype"))
        self.fields["currencies"] = tuple(dict.fromkeys(self.reading.currencies))
        self.use("astatus", "atype", "active", "action")
        self._exclusions()
        self._versus_average()
        self._people_as("customers", dict.fromkeys(vocab.EXCLUDERS, "exclude_customers"))
        if self.reading.account_numbers:
            self.fields["account_numbers"] = tuple(self.reading.account_numbers)
        self._amount(what="balances")
        self._period(needs_created_word=True)
        if self._asks_for_people() and not facts.groups and not self._grand_total():
            facts.groups.append("customer")
        self._shape(
            groups={
                k: GroupKey(k)
                for k in ("month", "year", "status", "currency", "customer", "account_type")
            },
            measure_word="accounts",
        )
        self._having()

    def _customers(self) -> None:
        facts = self.facts
        roles = list(facts.values("role"))
        if not roles and facts.has("noun", "staff"):
            roles = ["admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"]
        if not roles and facts.has("noun", "customers"):
            roles = ["customer"]
        self.fields["roles"] = tuple(roles)
        self.fields["kyc_statuses"] = tuple(facts.values("kyc"))
        actives = facts.values("active")
        if len(actives) == 1:
            self.fields["active"] = actives[0] == "true"
        self.use("role", "kyc", "kyc_word", "active", "action", "astatus")
        if facts.has("astatus") and not facts.has("active"):
            raise self.refuse("ask about accounts for account statuses")
        self._people_as("customers", {})
        self._period(needs_created_word=True)
        self._counted(
            {
                "role": GroupKey.ROLE,
                "kyc_status": GroupKey.KYC,
                "month": GroupKey.MONTH,
                "year": GroupKey.YEAR,
            },
            what="customers",
        )

    def _audit(self) -> None:
        facts = self.facts
        words = set(facts.values("word"))
        actions: list[str] = []
        if words & {"role", "roles", "promoted", "demoted"}:
            actions.append("%role%")
        if facts.has("kyc_word") or facts.has("kyc"):
            actions.append("%kyc%")
        for word in facts.values("word"):
            for kind, value in vocab.tags(word):
                if kind == "action" and value not in actions and word != "new":
                    actions.append(value)
        for ttype in facts.values("ttype"):
            if ttype != "reversal":
                raise self.refuse("ask about transactions directly, not in the audit trail")
            if "transaction.reversal" not in actions:
                actions.append("transaction.reversal")
        self.fields["actions"] = tuple(actions)
        self.use("action", "ttype", "tstatus", "astatus", "created", "kyc", "kyc_word")
        self._people_as("customers", {"by": "actors"})
        self._period()
        self.use("role")
        self._counted(
            {
                "action": GroupKey.ACTION,
                "actor": GroupKey.ACTOR,
                "month": GroupKey.MONTH,
                "day": GroupKey.DAY,
                "customer": GroupKey.ACTOR,
            },
            what="the audit trail",
        )

    def _alerts(self) -> None:
        facts = self.facts
        words = set(facts.values("word"))
        statuses = list(facts.values("alert_status"))
        statuses += [s for s in ("open", "closed") if s in words]
        self.fields["alert_statuses"] = tuple(dict.fromkeys(statuses))
        self.fields["alert_queues"] = tuple(facts.values("queue"))
        self.fields["severities"] = tuple(facts.values("severity"))
        self.use("alert_status", "queue", "severity", "astatus", "active", "action")
        self._people_as("customers", {})
        self._period()
        self._counted(
            {
                "status": GroupKey.STATUS,
                "queue": GroupKey.QUEUE,
                "severity": GroupKey.SEVERITY,
                "rule": GroupKey.RULE,
                "customer": GroupKey.CUSTOMER,
                "month": GroupKey.MONTH,
                "day": GroupKey.DAY,
            },
            what="alerts",
        )

    def _counted(self, groups: dict[str, GroupKey], *, what: str) -> None:
        """The shape of customers, audit events and alerts: a count (per group), or a list,
        newest or oldest first when asked."""
        facts = self.facts
        metric = self._metric()
        if metric not in (None, Metric.COUNT):
            raise self.refuse(f"for {what} I can count; totals are about amounts or balances")
        keys = self._groups(groups)
        self.fields["metric"] = Metric.COUNT if keys else metric
        self.fields["group_by"] = tuple(keys)
        limit, word = self._limit_words()
        self.use("recency")
        recency = facts.values("recency")
        if word:
            recency = ["oldest"] if word in ("first", "oldest", "earliest") else ["newest"]
        if recency:
            self.fields["order"] = Order(key=SortKey.DATE, descending=recency[0] == "newest")
            singular = self._singular() and not facts.has("who")
            self.fields["limit"] = limit or (1 if singular else DEFAULT_TOP)
        else:
            self.fields["limit"] = limit
            if facts.sort_keys or facts.values("order"):
                self.fields["order"] = self._explicit_order()

    def _ledger_view(self) -> None:
        self.use("subject")
        if self.subject is Subject.BALANCE_SHEET:
            self.fields["currencies"] = tuple(dict.fromkeys(self.reading.currencies))
