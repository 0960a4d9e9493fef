"""The bank's words: what each word of a question can mean to the offline engine.

A word maps to one or more tags (kind, value). The parser decides between meanings by
context (a "frozen" account is a status; "who froze" is an audit action). Words that carry
no meaning are listed as fillers; any other word the parser cannot place makes it say that it
did not understand, rather than guess.
"""

from __future__ import annotations

import re
from typing import Final

Tag = tuple[str, str]

MONTHS: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip

NUMBER_WORDS: Final[dict[str, int]] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "fifty": 50, "hundred": 100,
}  # fmt: skip

CURRENCY_SYMBOLS: Final[dict[str, str]] = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
CURRENCY_WORDS: Final[dict[str, str]] = {
    "dollar": "USD", "dollars": "USD", "usd": "USD", "bucks": "USD",
    "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "pound": "GBP", "pounds": "GBP", "gbp": "GBP",
    "yen": "JPY", "jpy": "JPY", "chf": "CHF", "francs": "CHF",
    "cad": "CAD", "aud": "AUD", "sek": "SEK", "nok": "NOK", "dkk": "DKK", "pln": "PLN",
    "inr": "INR", "kwd": "KWD",
}  # fmt: skip

# Phrases rewritten to one token before the words are read (order matters: longest first).
PHRASES: Final[list[tuple[str, str]]] = [
    # flagged by hand, not by the risk screen (before "fraud analysts" becomes a role)
    (
        r"\b(?:flagged|marked) (?:by hand|manually|by (?:the |a |an )?(?:staff|analysts?|"
        r"employees?|compliance(?: officers?)?|officers?|fraud analysts?|investigators?|"
        r"reviewers?))\b",
        "staff_flagged",
    ),
    (r"\b(?:manually|hand)[ -](?:flagged|marked)\b", "staff_flagged"),
    (
        r"\b(?:larger|bigger|greater|higher|more|above|over)(?: than)?(?: the| an)? average\b",
        "above_average",
    ),
    (r"\b(?:smaller|lower|less|below|under)(?: than)?(?: the| an)? average\b", "below_average"),
    (r"\b(?:other than|apart from|not including|but not|except for)\b", "excluding"),
    (r"\baccount holders?\b", "customers"),
    (r"\bcharged to\b", "from"),
    (r"\bhow many\b", "count_of"),
    (r"\bnumber of\b", "count_of"),
    (r"\bcount of\b", "count_of"),
    (r"\bhow much\b", "how_much"),
    (r"\bbalance sheet\b", "balance_sheet"),
    (r"\b(?:ledger )?integrity(?: check)?(?: violations?)?\b", "integrity"),
    (r"\bis the ledger (?:sound|balanced|consistent|ok)\b", "integrity"),
    (r"\bthe books balance\b", "balance_sheet"),
    (r"\baudit (?:logs|events|records|entries)\b", "audit_events"),
    (r"\baudit (?:log|trail|event|record|entry)\b", "audit"),
    (r"\baccount types?\b", "account_type_key"),
    (r"\btransaction types?\b", "transaction_type"),
    (r"\btypes? of transactions?\b", "transaction_type"),
    (r"\b(by|per|each) kyc status(?:es)?\b", r"\1 kyc_key"),
    (r"\bkyc status(?:es)?\b", "kyc"),
    (r"\brisk (?:verdicts?|levels?)\b", "verdict_key"),
    (r"\bfraud analysts?\b", "role_fraud_analyst"),
    (r"\bcompliance officers?\b", "role_compliance_officer"),
    (r"\bfinancial managers?\b", "role_financial_manager"),
    (r"\bhigh[ -]risk\b", "risky"),
    (r"\bmost recent\b", "newest"),
    (r"\bmost recently\b", "newest"),
    (r"\bgrouped by\b", "by"),
    (r"\bbroken down by\b", "by"),
    (r"\bbreak(?:down)? by\b", "by"),
    (r"\bsplit by\b", "by"),
    (r"\bfor each\b", "per"),
    (r"\bfor every\b", "per"),
    (r"\bin each\b", "per"),
    (r"\bsorted by\b", "sort_by"),
    (r"\bordered by\b", "sort_by"),
    (r"\border by\b", "sort_by"),
    (r"\bsort by\b", "sort_by"),
    (r"\bwith the (?:most|highest|largest|biggest)\b", "most"),
    (r"\bthe most\b", "most"),
    (r"\bthe least\b", "least"),
    (r"\bhighest first\b", "desc_order"),
    (r"\blargest first\b", "desc_order"),
    (r"\bbiggest first\b", "desc_order"),
    (r"\blowest first\b", "asc_order"),
    (r"\bsmallest first\b", "asc_order"),
    (r"\bnewest first\b", "newest_first"),
    (r"\blatest first\b", "newest_first"),
    (r"\boldest first\b", "oldest_first"),
    (r"\bin (?:chronological|date) order\b", "oldest_first"),
    (r"\bchronologically\b", "oldest_first"),
    (r"\bdescending\b", "desc_order"),
    (r"\bascending\b", "asc_order"),
    (r"\bsigned up\b", "joined"),
    (r"\blogged in\b", "login"),
    (r"\bcash (?:deposits?|in)\b", "deposits"),
    (r"\bcash (?:withdrawals?|out)\b", "withdrawals"),
    (r"\bmoney movements?\b", "transactions"),
    (r"\b(low|medium|high)[ -]severity\b", r"\1"),
    (r"\bseverity (low|medium|high)\b", r"\1"),
    (r"\b(fraud|compliance|aml) queue\b", r"\1"),
    (r"\bblocked by (?:the )?risk(?: engine| screening| scoring)?\b", "blocked"),
    (r"\bjournal entries\b", "journals"),
]

_TAGS: dict[str, tuple[Tag, ...]] = {}


def _add(words: str, *tags: Tag) -> None:
    for word in words.split():
        _TAGS[word] = _TAGS.get(word, ()) + tags


# second round: synonyms, the two sides of a payment, exclusions, comparisons
_add("incoming inbound", ("direction", "to"))
_add("outgoing outbound", ("direction", "from"))
_add("wire wires wired remittance remittances", ("ttype", "transfer"))
_add("locked suspended", ("astatus", "frozen"))
_add(
    "recipient recipients payee payees beneficiary beneficiaries receivers", ("party", "recipient")
)
_add("sender senders payer payers remitter remitters", ("party", "sender"))
_add("combined", ("metric", "total"))
_add("compare compared comparing versus vs against", ("compare", ""))
_add("staff_flagged", ("flagged_staff", ""))
_add("above_average", ("versus_average", "above"))
_add("below_average", ("versus_average", "below"))
# subjects
_add("transaction transactions txn txns movements postings activity", ("noun", "transactions"))
_add("account accounts", ("noun", "accounts"))
_add("balance balances", ("noun", "balance"))
_add("transaction_type", ("noun", "transactions"))
_add("customer customers client clients", ("noun", "customers"))
_add("user users people person members member", ("noun", "users"))
_add("staff employees employee", ("noun", "staff"))
_add("audit audit_events events event changes", ("noun", "audit"))
_add("alert alerts cases", ("noun", "alerts"))
_add("investigating investigated", ("alert_status", "investigating"))
_add("escalated", ("alert_status", "escalated"))
_add("reported", ("alert_status", "reported"))
_add("fraud", ("queue", "fraud"))
_add("aml compliance", ("queue", "compliance"))
_add("low", ("severity", "low"))
_add("medium", ("severity", "medium"))
_add("high severe", ("severity", "high"))
_add("balance_sheet", ("subject", "balance_sheet"))
_add("integrity", ("subject", "integrity"))
# transaction types (singular and plural)
for _type, _words in {
    "deposit": "deposit deposits deposited",
    "withdrawal": "withdrawal withdrawals withdrew withdrawn withdraw",
    "transfer": "transfer transfers transferred payment payments sent",
    "fee": "fee fees charges",
    "journal": "journal journals",
    "reversal": "reversal reversals",
}.items():
    _add(_words, ("ttype", _type))
# statuses and verdicts
_add("posted successful completed settled", ("tstatus", "posted"))
_add("blocked declined rejected", ("tstatus", "blocked"))
_add("reversed", ("tstatus", "reversed"), ("action", "transaction.reversal"))
_add("frozen", ("astatus", "frozen"), ("action", "account.frozen"))
_add("froze freeze freezes freezing", ("action", "account.frozen"))
_add("unfroze unfreeze unfrozen unfreezes", ("action", "account.unfrozen"))
_add("closed", ("astatus", "closed"), ("action", "account.closed"))
_add("active open", ("astatus", "active"), ("active", "true"))
_add("inactive deactivated disabled", ("active", "false"))
_add("safe", ("verdict", "SAFE"))
_add("suspicious", ("verdict", "SUSPICIOUS"))
_add("critical", ("verdict", "CRITICAL"))
_add("risky", ("verdict", "SUSPICIOUS"), ("verdict", "CRITICAL"))
_add("flagged", ("flagged", ""))
_add("savings saving", ("atype", "savings"))
_add("checking", ("atype", "checking"))
_add("wallet wallets", ("atype", "wallet"))
# roles and KYC
_add("admin admins administrator administrators", ("role", "admin"))
_add("auditor auditors", ("role", "auditor"))
_add("role_fraud_analyst analysts", ("role", "fraud_analyst"))
_add("role_compliance_officer", ("role", "compliance_officer"))
_add("role_financial_manager managers", ("role", "financial_manager"))
_add("pending unverified", ("kyc", "pending"))
_add("verified", ("kyc", "verified"))
_add("kyc", ("kyc_word", ""))
# audit actions (verbs and nouns)
_add("role roles promoted demoted", ("action", "%role%"))
_add("opened", ("created", ""), ("action", "account.opened"))
_add("created registered joined new", ("created", ""), ("action", "user.created"))
_add("login logins", ("action", "%login%"))
_add("changed change modified updated edited", ("change", ""))
_add("received receive receives got collected", ("direction", "to"))
_add("send sends paid pay pays", ("direction", "from"))
_add("sent", ("direction", "from"))
_add("between", ("between", ""))
_add("who whom", ("who", ""))
_add("when", ("when", ""))
# aggregates and ordering
_add("count_of count counts number", ("metric", "count"))
_add("total totals sum volume how_much", ("metric", "total"))
_add("average avg mean", ("metric", "average"))
_add("largest biggest highest maximum max greatest", ("extreme", "largest"))
_add("smallest lowest minimum min", ("extreme", "smallest"))
_add("most", ("most", ""))
_add("least fewest", ("least", ""))
_add("top", ("top", ""))
_add("bottom", ("bottom", ""))
_add("newest latest recent last", ("recency", "newest"))
_add("oldest earliest first", ("recency", "oldest"))
_add("newest_first", ("order", "date_desc"))
_add("oldest_first", ("order", "date_asc"))
_add("desc_order", ("order", "desc"))
_add("asc_order", ("order", "asc"))
_add("sort_by", ("sort_by", ""))
_add("by", ("by", ""))
_add("per", ("per", ""))
_add("monthly", ("group", "month"))
_add("daily", ("group", "day"))
_add("yearly annual annually", ("group", "year"))
_add("amount amounts value values size", ("measure", "amount"))
_add("date dates time", ("measure", "date"))
_add("name names", ("measure", "name"))
_add("money funds cash", ("money", ""))
_add("have has hold holds held own owns", ("have", ""))

# Words after "by"/"per"/"each" that name a grouping.
GROUP_WORDS: Final[dict[str, str]] = {
    "month": "month", "months": "month", "day": "day", "days": "day", "date": "day",
    "year": "year", "years": "year", "type": "type", "types": "type", "kind": "type",
    "category": "type", "status": "status", "statuses": "status", "customer": "customer",
    "customers": "customer", "client": "customer", "user": "customer", "owner": "customer",
    "person": "customer", "account": "account", "accounts": "account",
    "account_type_key": "account_type", "currency": "currency", "currencies": "currency",
    "verdict": "verdict", "verdicts": "verdict", "verdict_key": "verdict", "risk": "verdict",
    "role": "role", "roles": "role", "kyc_key": "kyc_status", "kyc": "kyc_status",
    "action": "action", "actions": "action", "actor": "actor", "actors": "actor",
    "transaction_type": "type", "queue": "queue", "queues": "queue", "severity": "severity",
    "rule": "rule", "rules": "rule", "recipient": "recipient", "recipients": "recipient",
    "payee": "recipient", "payees": "recipient", "sender": "sender", "senders": "sender",
    "payer": "sender", "payers": "sender",
}  # fmt: skip

# Words that carry no meaning of their own here.
FILLERS: Final[frozenset[str]] = frozenset(
    """
    a an the all any every each show shows list lists find get give display tell see view
    me us i we my our you your please can could would will shall should may might must
    what which whose where is are was were be been being do does did done have has had
    there their them they it its this that these those of for in on at to with from into
    onto about and or also just only ever some made make makes making happened occurred
    took place taking record records recorded entry entries details detail info
    information data report reports let know want need like look looking up out over
    under currently current right now so far such as how many much here please? whats
    whos overall altogether together in total one items item single
    respective respectively different distinct unique kind kinds along including
    performed done did anything everything something lately involving involved bank
    charged ones
    """.split()
)

# Prepositions that tie a following name to a role in the question.
SENDER_WORDS: Final[frozenset[str]] = frozenset({"from", "by"})
RECIPIENT_WORDS: Final[frozenset[str]] = frozenset({"to", "into", "toward", "towards"})
NEGATIONS: Final[frozenset[str]] = frozenset(
    {"not", "no", "non", "except", "excluding", "without", "never", "nor", "exclude", "other"}
)
# Words after which the types, statuses and people named are left out ("excluding fees").
EXCLUDERS: Final[frozenset[str]] = frozenset({"excluding", "except", "without", "exclude", "not"})

WORD = re.compile(r"[a-z0-9_%$€£¥.@+'-]+")


def tags(word: str) -> tuple[Tag, ...]:
    """Every meaning `word` can have ('' kind for none)."""
    return _TAGS.get(word, ())


def singular(word: str) -> bool:
    """True when a noun is singular ("transfer", not "transfers")."""
    return not word.endswith("s") or word.endswith("ss") or word in ("status", "its")


# Example questions the engine answers, offered when it does not understand one.
EXAMPLES: Final[dict[str, tuple[str, ...]]] = {
    "transactions": (
        "show all transactions for alice",
        "find transfers over $500 last month",
        "total deposits by month this year",
        "largest withdrawal this year",
        "how many transactions were blocked",
    ),
    "accounts": (
        "which accounts are frozen",
        "top 5 customers by balance",
        "total balance by account type",
        "savings accounts with a balance over 1000",
    ),
    "customers": (
        "customers with pending kyc",
        "new customers this month",
        "list all auditors",
    ),
    "audit_events": (
        "who changed bob's role",
        "who froze accounts last week",
        "audit events for alice",
    ),
    "risk": (
        "show flagged transactions",
        "suspicious transfers this month",
        "open fraud alerts",
        "number of alerts by rule",
    ),
    "ledger": ("show the balance sheet", "is the ledger sound"),
}


def suggestions(topic: str | None = None, *, count: int = 6) -> list[str]:
    """Questions to offer: the topic's own first, then a few of every kind."""
    ordered = list(EXAMPLES.get(topic or "", ()))
    for examples in EXAMPLES.values():
        ordered.extend(e for e in examples[:2] if e not in ordered)
    return ordered[:count]
