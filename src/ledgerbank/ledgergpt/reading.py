"""Reading a question: the literal pieces (amounts, account numbers, ids, quoted text, limits,
time phrases) are lifted out first; what remains is a list of words for the parser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from ledgerbank.ledgergpt.periods import Span, find_periods
from ledgerbank.ledgergpt.vocabulary import (
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    NUMBER_WORDS,
    PHRASES,
)

MAX_QUESTION_LENGTH = 500

_CURRENCY_WORD = "|".join(sorted(CURRENCY_WORDS, key=len, reverse=True))
_NUM = r"\d+(?:\.\d+)?(?:\s?(?:k|thousand|m|million)\b)?"
_MONEY = (
    rf"(?:(?P<{{p}}sym>[$€£¥])\s?)?(?P<{{p}}num>{_NUM})"
    rf"(?:\s?(?P<{{p}}cur>{_CURRENCY_WORD})\b)?"
)
# A number followed by one of these counts things; it is not an amount.
_COUNTED = (
    r"(?!\s*(?:transactions?|deposits?|withdrawals?|transfers?|payments?|fees?|accounts?|"
    r"times|customers?|users?|people|events?|alerts?|days?|weeks?|months?|years?|%))"
)
_COMPARATORS = {
    "ge": r"at least|no less than|not less than|minimum of|min of|>=|(?:greater|more|larger)"
    r" than or equal to|over or equal to|no (?:smaller|lower) than|not (?:below|under)",
    "le": r"at most|no more than|not more than|up to|maximum of|max of|<=|(?:less|smaller)"
    r" than or equal to|no (?:larger|bigger|greater|higher) than|not (?:above|over)",
    "gt": r"over|above|more than|greater than|larger than|bigger than|higher than|exceeding"
    r"|exceeds|exceed|in excess of|>",
    "lt": r"under|below|less than|smaller than|lower than|beneath|<",
    "eq": r"exactly|equal to|equals|of|for|=",
}
_RANGE = re.compile(
    r"\b(?:between|from)\s+" + _MONEY.format(p="a") + r"\s+(?:and|to|-)\s+" + _MONEY.format(p="b")
    + r"\b" + _COUNTED
)  # fmt: skip
_COMPARED = re.compile(
    r"(?:(?<=\s)|^)(?P<op>"
    + "|".join(f"(?P<{name}>{words})" for name, words in _COMPARATORS.items())
    + r")\s*"
    + _MONEY.format(p="x")
    + r"(?![\d.])"
    + _COUNTED
)
_BARE_MONEY = re.compile(
    r"(?:(?P<sym>[$€£¥])\s?(?P<num>" + _NUM + r")(?:\s?(?P<cur>" + _CURRENCY_WORD + r")\b)?"
    r"|(?P<num2>" + _NUM + r")\s?(?P<cur2>" + _CURRENCY_WORD + r")\b)"
)
_CURRENCY_ALONE = re.compile(r"\b(?:" + _CURRENCY_WORD + r")\b")
_ACCOUNT_NUMBER = re.compile(r"\b\d{12}\b")
_TRANSACTION_ID = re.compile(
    r"\b(?:transaction|txn)s?\s*(?:#|no\.?|number|id)?\s*(?P<id>\d{1,12})\b|#(?P<hash>\d{1,12})\b"
)
_QUOTED = re.compile(
    r"(?:\b(?:mentioning|mention|mentions|containing|contains|described as|with description"
    r"|with the description|with memo|memo|labelled|labeled|referencing|saying|called"
    r"|description)\s+)?[\"“”](?P<text>[^\"“”]{1,100})[\"“”]"
)
_MENTION = re.compile(
    r"\b(?:mentioning|mention|mentions|containing|contains|described as|with description"
    r"|with the description|with memo|memo|labelled|labeled|referencing|saying"
    r"|(?:spent|paid|spending|payments?)\s+(?:on|for))\s+"
    r"(?P<word>[a-z0-9][a-z0-9_-]{0,40})\b"
)
_COUNT_WORD = r"(?:\d{1,4}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
_LIMIT = re.compile(
    r"\b(?P<word>top|bottom|first|last|latest|newest|oldest|earliest|largest|biggest|smallest"
    r"|highest|lowest|recent)\s+(?P<n>" + _COUNT_WORD + r")\b(?!\s*(?:days?|weeks?|months?|years?"
    r"|k\b|%|\.\d))"
    r"|\b(?P<n2>" + _COUNT_WORD + r")\s+(?P<word2>largest|biggest|smallest|highest|lowest"
    r"|newest|latest|oldest|earliest|most|least|recent|newest|top)\b"
    r"|^(?:show|list|give|find|get|display)(?:\s+me)?\s+(?:the\s+)?(?P<n3>\d{1,4})\s+(?=[a-z])"
    r"|\b(?:which|what)\s+(?P<n4>" + _COUNT_WORD + r")\s+(?=[a-z])"
)
# "customers with more than 2 accounts": a count per group compared with a number
_HAVING = re.compile(
    r"\b(?:with|having|have|has|had|made|make|making|holding|hold|holds)\s+"
    r"(?P<op>more than|over|at least|fewer than|less than|under|exactly|at most|no more than)"
    r"\s+(?P<n>" + _COUNT_WORD + r")\s+(?=(?:accounts?|transactions?|transfers?|deposits?"
    r"|withdrawals?|payments?|alerts?)\b)"
)
_HAVING_OPS = {
    "more than": "gt", "over": "gt", "at least": "ge", "fewer than": "lt", "less than": "lt",
    "under": "lt", "exactly": "eq", "at most": "le", "no more than": "le",
}  # fmt: skip


@dataclass
class Reading:
    """What was lifted out of a question, and the words that remain."""

    text: str
    words: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    bad_dates: list[str] = field(default_factory=list)
    amounts: list[tuple[str, Decimal, Decimal | None, str | None]] = field(default_factory=list)
    account_numbers: list[str] = field(default_factory=list)
    transaction_ids: list[int] = field(default_factory=list)
    contains: list[str] = field(default_factory=list)
    limits: list[tuple[int, str]] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    having: list[tuple[str, int]] = field(default_factory=list)


def normalize(question: str) -> str:
    text = question.strip().lower()
    text = text.replace("’", "'").replace("‘", "'").replace("\u00a0", " ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"[?!;:,()\[\]{}]", " ", text)
    text = re.sub(r"\b(today|yesterday|tomorrow|week|month|year|quarter)'s\b", r"\1", text)
    # "since the start of the year": from the first day of this year on
    text = re.sub(
        r"\b(since|from) the (?:start|beginning) of (?:the|this) (week|month|year|quarter)\b",
        r"\1 this \2",
        text,
    )
    text = re.sub(r"\.(?=\s|$)", " ", text)
    return " ".join(text.split())


def _number(text: str) -> Decimal:
    text = text.replace(" ", "")
    scale = Decimal(1)
    for suffix, factor in (("thousand", 1000), ("million", 1000000), ("k", 1000), ("m", 10**6)):
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], Decimal(factor)
            break
    try:
        return Decimal(text) * scale
    except InvalidOperation:
        raise ValueError(text) from None


def _currency(symbol: str | None, word: str | None) -> str | None:
    if symbol:
        return CURRENCY_SYMBOLS[symbol]
    if word:
        return CURRENCY_WORDS[word]
    return None


def _count(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def read(question: str, today: date) -> Reading:
    text = normalize(question)
    reading = Reading(text)
    work = text

    def blank(start: int, end: int) -> None:
        nonlocal work
        work = work[:start] + " " * (end - start) + work[end:]

    for match in _QUOTED.finditer(work):
        reading.contains.append(match.group("text").strip())
        blank(match.start(), match.end())
    for match in _MENTION.finditer(work):
        reading.contains.append(match.group("word"))
        blank(match.start(), match.end())
    for match in _ACCOUNT_NUMBER.finditer(work):
        reading.account_numbers.append(match.group(0))
        blank(match.start(), match.end())
    for match in _TRANSACTION_ID.finditer(work):
        reading.transaction_ids.append(int(match.group("id") or match.group("hash")))
        blank(match.start(), match.end())
    for match in _HAVING.finditer(work):
        reading.having.append((_HAVING_OPS[match.group("op")], _count(match.group("n"))))
        blank(match.start(), match.end())
    found = find_periods(work, today)
    reading.spans, reading.bad_dates = found.spans, found.invalid
    for start, end in found.consumed:
        blank(start, end)
    for match in _LIMIT.finditer(work):
        group = next(g for g in ("n", "n2", "n3", "n4") if match.group(g))
        word = match.group("word") or match.group("word2") or ("top" if group == "n4" else "")
        reading.limits.append((_count(match.group(group)), word))
        start, end = match.span(group)
        blank(start, end)
    for match in _RANGE.finditer(work):
        low, high = _number(match.group("anum")), _number(match.group("bnum"))
        currency = _currency(match.group("asym"), match.group("acur")) or _currency(
            match.group("bsym"), match.group("bcur")
        )
        reading.amounts.append(("between", min(low, high), max(low, high), currency))
        blank(match.start(), match.end())
    for match in _COMPARED.finditer(work):
        op = next(name for name in _COMPARATORS if match.group(name))
        currency = _currency(match.group("xsym"), match.group("xcur"))
        if op == "eq" and currency is None and match.group("eq") in ("of", "for"):
            continue  # "of 5" or "for 2" is not an amount without a currency
        reading.amounts.append((op, _number(match.group("xnum")), None, currency))
        blank(match.start(), match.end())
    for match in _BARE_MONEY.finditer(work):
        number = match.group("num") or match.group("num2")
        currency = _currency(match.group("sym"), match.group("cur") or match.group("cur2"))
        reading.amounts.append(("eq", _number(number), None, currency))
        blank(match.start(), match.end())
    for match in _CURRENCY_ALONE.finditer(work):
        reading.currencies.append(CURRENCY_WORDS[match.group(0)])
        blank(match.start(), match.end())
    for pattern, replacement in PHRASES:
        work = re.sub(pattern, replacement, work)
    work = re.sub(r"(?<=[a-z0-9])'s\b", " _poss", work)
    work = re.sub(r"(?<=s)'(?=\s|$)", "", work)
    reading.words = work.split()
    return reading
