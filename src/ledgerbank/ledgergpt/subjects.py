"""What a question is about (its subject), and how the periods of "compare A and B" combine."""

from __future__ import annotations

from ledgerbank.ledgergpt.facts import Facts
from ledgerbank.ledgergpt.periods import Span
from ledgerbank.ledgergpt.plan import Subject


def subject_of(facts: Facts) -> Subject | None:
    if facts.has("subject", "balance_sheet"):
        return Subject.BALANCE_SHEET
    if facts.has("subject", "integrity"):
        return Subject.INTEGRITY
    if is_audit(facts):
        return Subject.AUDIT_EVENTS
    if facts.has("noun", "alerts"):
        return Subject.ALERTS
    transaction_kinds = ("ttype", "verdict", "flagged", "flagged_staff", "party", "not_ttype")
    if any(facts.has(k) for k in transaction_kinds) or facts.has("noun", "transactions"):
        return Subject.TRANSACTIONS
    people_asked = facts.has("who") or facts.has("noun", "customers") or facts.has("noun", "users")
    if facts.has("direction") and people_asked and not facts.has("have"):
        return Subject.TRANSACTIONS  # "who received the most money", "customers who sent"
    if facts.has("money") and facts.has("have"):
        return Subject.ACCOUNTS  # "how much money do all customers hold"
    people = facts.has("noun", "customers") or facts.has("noun", "users")
    if facts.has("tstatus") and not facts.has("noun", "accounts") and not people:
        return Subject.TRANSACTIONS
    if facts.has("noun", "accounts") or facts.has("noun", "balance") or facts.has("atype"):
        return Subject.ACCOUNTS
    if (facts.has("astatus") or facts.has("not_astatus") or facts.has("not_atype")) and not (
        facts.has("noun", "customers") or facts.has("noun", "users")
    ):
        return Subject.ACCOUNTS
    if any(facts.has("noun", n) for n in ("customers", "users", "staff")) or facts.has("role"):
        return Subject.CUSTOMERS
    if facts.has("kyc") or facts.has("kyc_word"):
        return Subject.CUSTOMERS
    if facts.has("money") and (facts.has("have") or facts.has("who")):
        return Subject.ACCOUNTS
    if facts.has("direction"):  # "what did carol send"
        return Subject.TRANSACTIONS
    if facts.has("described"):  # "spent on groceries", "mentioning rent"
        return Subject.TRANSACTIONS
    return None


def union(spans: list[Span]) -> Span:
    """The periods compared, as one: from the first start to the last end."""
    starts = [s.start for s in spans]
    ends = [s.end for s in spans]
    start = None if None in starts else min(s for s in starts if s is not None)
    end = None if None in ends else max(e for e in ends if e is not None)
    return Span(start, end, " and ".join(s.label for s in spans))


def unit_of(spans: list[Span]) -> str:
    """The grouping that puts each compared period on its own row."""
    lengths = [(s.end - s.start).days for s in spans if s.start and s.end]
    if lengths and max(lengths) <= 1:
        return "day"
    if lengths and min(lengths) >= 365:
        return "year"
    return "month"


def is_audit(facts: Facts) -> bool:
    if facts.has("noun", "audit"):
        return True
    asked = facts.has("who") or facts.has("when")
    words = set(facts.values("word"))
    verbs = words & {
        "froze", "freeze", "frozen", "unfroze", "unfreeze", "unfrozen", "closed", "opened",
        "created", "registered", "reversed", "promoted", "demoted", "changed", "modified",
        "updated", "edited", "role", "roles", "login", "logins", "joined",
    }  # fmt: skip
    if asked and verbs:
        return True
    if words & {"freezes", "unfreezes", "logins", "login"}:
        return True
    return bool(words & {"role", "roles"} and words & {"change", "changes", "changed"})
