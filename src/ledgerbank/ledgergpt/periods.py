"""Time phrases in questions ("yesterday", "last month", "in March", "since 2026-01-01") as
UTC periods, computed in Python from an injectable today and bound as parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from ledgerbank.ledgergpt.vocabulary import MONTHS, NUMBER_WORDS

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_COUNT = r"(?:\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
_ATOM = re.compile(
    rf"""
    (?P<iso>\b\d{{4}}-\d{{1,2}}-\d{{1,2}}\b)
    | (?P<md>\b(?P<md_month>{_MONTH})\.?\s+(?P<md_day>\d{{1,2}})(?:st|nd|rd|th)?\b
        (?:,?\s+(?P<md_year>(?:19|20)\d{{2}})\b)?)
    | (?P<dm>\b(?P<dm_day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dm_month>{_MONTH})\b
        (?:,?\s+(?P<dm_year>(?:19|20)\d{{2}})\b)?)
    | (?P<month>\b(?P<m_month>{_MONTH})\b(?:,?\s+(?P<m_year>(?:19|20)\d{{2}})\b)?)
    | (?P<quarter>\bq(?P<q>[1-4])(?:\s+(?P<q_year>(?:19|20)\d{{2}}))?\b)
    | (?P<lastn>\b(?:the\s+)?(?:last|past|previous|prior)\s+(?P<n>{_COUNT})\s+
        (?P<unit>days?|weeks?|months?|years?)\b)
    | (?P<rel>\b(?:today|yesterday|(?:this|current)\s+(?:week|month|year|quarter)
        |(?:last|previous|past|prior)\s+(?:week|month|year|quarter)
        |(?:the\s+)?(?:year|month)[\s-]to[\s-]date|ytd|mtd|so\s+far\s+this\s+year)\b)
    | (?P<year>\b(?:19|20)\d{{2}}\b)
    """,
    re.VERBOSE,
)
_OPEN_START = re.compile(
    r"\b(?:since|after|starting(?:\s+(?:from|on|in))?|beginning(?:\s+(?:from|on|in))?)\s+$"
)
_OPEN_END = re.compile(r"\b(?:before|prior\s+to|until|till|through|up\s+to)\s+$")
_PLAIN = re.compile(r"\b(?:in|on|during|for|of|over|within|from|at)\s+(?:the\s+)?$")
_RANGE_JOIN = re.compile(r"^\s+(?:and|to|until|till|through|-)\s+$")
_YEAR_CONTEXT = re.compile(
    r"\b(?:in|during|since|before|after|until|till|for|of|year|from|between|and|to|through)\s+$"
)


# "2000 dollars", "between 1000 and 2000": amounts that look like years
_AMOUNT_AFTER = re.compile(
    r"\s*(?:dollars?|bucks|usd|euros?|eur|pounds?|gbp|k\b|thousand|million|\.\d)"
)
_AMOUNT_RANGE_BEFORE = re.compile(
    r"\b(?:between|from)\s+[$€£]?(?!(?:19|20)\d{2}\b)\d[\d.]*\s*(?:k|dollars?|euros?)?\s+"
    r"(?:and|to|-)\s+$"
)


@dataclass(frozen=True)
class Span:
    """[start, end) in UTC; `yearless` marks a month or day named without its year."""

    start: datetime | None
    end: datetime | None
    label: str
    yearless: tuple[int, int | None] | None = None  # (month, day) to re-anchor on a year
    whole_year: int | None = None


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _month_start(year: int, month: int) -> date:
    while month < 1:
        month, year = month + 12, year - 1
    while month > 12:
        month, year = month - 12, year + 1
    return date(year, month, 1)


def _day_span(day: date) -> Span:
    return Span(_at(day), _at(day + timedelta(days=1)), f"on {day.isoformat()}")


def _month_span(year: int, month: int) -> Span:
    first = _month_start(year, month)
    return Span(_at(first), _at(_month_start(year, month + 1)), first.strftime("in %B %Y"))


def _year_span(year: int) -> Span:
    return Span(_at(date(year, 1, 1)), _at(date(year + 1, 1, 1)), f"in {year}", whole_year=year)


def _quarter_span(year: int, quarter: int) -> Span:
    first = date(year, 3 * quarter - 2, 1)
    end = _month_start(year, 3 * quarter + 1)
    return Span(_at(first), _at(end), f"in Q{quarter} {year}")


def _shift_months(day: date, months: int) -> date:
    first = _month_start(day.year, day.month - months)
    following = _month_start(first.year, first.month + 1)
    last_day = (following - timedelta(days=1)).day
    return first.replace(day=min(day.day, last_day))


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _relative(phrase: str, today: date) -> Span:
    words = phrase.split()
    if phrase == "today":
        return replace(_day_span(today), label="today")
    if phrase == "yesterday":
        return replace(_day_span(today - timedelta(days=1)), label="yesterday")
    if phrase in ("ytd", "so far this year") or ("year" in phrase and "date" in phrase):
        return replace(_year_span(today.year), end=_at(today + timedelta(days=1)), label=phrase)
    if phrase == "mtd" or ("month" in phrase and "date" in phrase):
        first = today.replace(day=1)
        return Span(_at(first), _at(today + timedelta(days=1)), "this month to date")
    current = words[0] in ("this", "current")
    unit = words[-1]
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) - timedelta(days=0 if current else 7)
        return Span(_at(monday), _at(monday + timedelta(days=7)), f"{words[0]} week")
    if unit == "month":
        span = _month_span(today.year, today.month - (0 if current else 1))
        return replace(span, label=f"{words[0]} month ({span.label[3:]})")
    if unit == "quarter":
        quarter = (today.month - 1) // 3 + 1 - (0 if current else 1)
        year = today.year
        if quarter == 0:
            quarter, year = 4, year - 1
        return _quarter_span(year, quarter)
    return _year_span(today.year - (0 if current else 1))


def _last_n(count: int, unit: str, today: date) -> Span:
    end = _at(today + timedelta(days=1))
    if unit.startswith("day"):
        start = today - timedelta(days=count - 1)
    elif unit.startswith("week"):
        start = today - timedelta(days=7 * count - 1)
    elif unit.startswith("month"):
        start = _shift_months(today, count)
    else:
        start = _shift_months(today, 12 * count)
    return Span(_at(start), end, f"in the last {count} {unit}")


def _atom(match: re.Match[str], today: date) -> Span | None:
    group = match.lastgroup
    g = match.group
    try:
        if group == "iso":
            return _day_span(date.fromisoformat(_pad_iso(g("iso"))))
        if group in ("md", "dm"):
            prefix = group
            month = MONTHS[g(f"{prefix}_month")]
            day = int(g(f"{prefix}_day"))
            if g(f"{prefix}_year"):
                return _day_span(date(int(g(f"{prefix}_year")), month, day))
            year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
            return replace(_day_span(date(year, month, day)), yearless=(month, day))
        if group == "month":
            month = MONTHS[g("m_month")]
            if g("m_year"):
                return _month_span(int(g("m_year")), month)
            year = today.year if month <= today.month else today.year - 1
            return replace(_month_span(year, month), yearless=(month, None))
        if group == "quarter":
            quarter = int(g("q"))
            year = int(g("q_year")) if g("q_year") else today.year
            return _quarter_span(year, quarter)
        if group == "lastn":
            return _last_n(_number(g("n")), g("unit"), today)
        if group == "rel":
            return _relative(" ".join(g("rel").split()), today)
        if group == "year":
            return _year_span(int(g("year")))
    except ValueError:  # February 30th and friends
        return None
    return None


def _pad_iso(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


@dataclass(frozen=True)
class Found:
    spans: list[Span]
    consumed: list[tuple[int, int]]
    invalid: list[str]


def find_periods(text: str, today: date) -> Found:
    """Every time phrase in `text` (lower-case), with the character ranges it used."""
    atoms: list[tuple[int, int, Span]] = []
    invalid: list[str] = []
    for match in _ATOM.finditer(text):
        if match.lastgroup == "year" and (
            not _YEAR_CONTEXT.search(text[: match.start()])
            or _AMOUNT_AFTER.match(text[match.end() :])
            or _AMOUNT_RANGE_BEFORE.search(text[: match.start()])
        ):
            continue  # a bare number, or the end of a range of amounts: not a year
        span = _atom(match, today)
        if span is None:
            invalid.append(match.group(0))
            continue
        atoms.append((match.start(), match.end(), span))
    spans: list[Span] = []
    consumed: list[tuple[int, int]] = []
    index = 0
    while index < len(atoms):
        start, end, span = atoms[index]
        before = text[:start]
        if index + 1 < len(atoms) and _RANGE_JOIN.match(text[end : atoms[index + 1][0]]):
            opener = re.search(r"\b(?:between|from)\s+$", before)
            if opener:
                _, last_end, last = atoms[index + 1]
                spans.append(
                    Span(span.start, last.end, f"from {_first_day(span)} to {_last_day(last)}")
                )
                consumed.append((opener.start(), last_end))
                index += 2
                continue
        if found := _OPEN_START.search(before):
            edge = span.end if found.group(0).startswith("after") else span.start
            spans.append(Span(edge, None, f"{found.group(0).strip()} {_first_day(span)}"))
            consumed.append((found.start(), end))
        elif found := _OPEN_END.search(before):
            edge = span.start if re.match(r"before|prior", found.group(0)) else span.end
            spans.append(Span(None, edge, f"{found.group(0).strip()} {_first_day(span)}"))
            consumed.append((found.start(), end))
        elif found := _PLAIN.search(before):
            spans.append(span)
            consumed.append((found.start(), end))
        else:
            spans.append(span)
            consumed.append((start, end))
        index += 1
    return Found(_anchor_years(spans), consumed, invalid)


def _first_day(span: Span) -> str:
    return span.start.date().isoformat() if span.start else "the beginning"


def _last_day(span: Span) -> str:
    return (span.end - timedelta(days=1)).date().isoformat() if span.end else "now"


def _anchor_years(spans: list[Span]) -> list[Span]:
    """ "March last year": a month named without a year takes the year named beside it."""
    years = [s.whole_year for s in spans if s.whole_year is not None]
    if len(years) != 1 or not any(s.yearless for s in spans):
        return spans
    year = years[0]
    anchored = []
    for span in spans:
        if span.whole_year is not None:
            continue
        if span.yearless is not None:
            month, day = span.yearless
            span = _day_span(date(year, month, day)) if day else _month_span(year, month)
        anchored.append(span)
    return anchored


def intersect(spans: list[Span]) -> Span | None:
    """The period every span agrees on (None when there is none)."""
    if not spans:
        return None
    starts = [s.start for s in spans if s.start is not None]
    ends = [s.end for s in spans if s.end is not None]
    start = max(starts) if starts else None
    end = min(ends) if ends else None
    if start is not None and end is not None and start >= end:
        return None
    return Span(start, end, ", ".join(s.label for s in spans))
