"""Sanctions screening: the lists the bank imports, fuzzy name matching, compliance alerts.

A list is a CSV file (`ledgerbank sanctions import FILE`) with a `name` column and optionally
`aliases` (separated by `;` or `|`), `date_of_birth` (YYYY, YYYY-MM or YYYY-MM-DD), `country`,
`programme` and `reference`. Each import is kept (`sanctions_lists`); a list's current entries
are those of its latest import. Names are compared after folding case and accents, dropping
punctuation and honorifics, with RapidFuzz's token-sort ratio (word order does not matter);
a date of birth on both sides that disagrees by more than a year lowers the score.

Customers are screened when they register, payees when a customer adds one (`screen_payee`,
for the saved-payees page) and on every payment to a new payee (the risk screen). A match
opens a compliance alert (rule `sanctions_match`) for compliance officers; the customer is
never told (tipping off).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Connection, func, insert, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.risk.alerts import open_alert
from ledgerbank.risk.tables import risk_alerts, sanctions_entries, sanctions_lists

RULE_ID = "sanctions_match"
DEFAULT_THRESHOLD = 88.0  # RapidFuzz token-sort ratio, 0..100
_HONORIFICS = frozenset(
    "mr mrs ms miss dr prof sir madam mme mlle herr frau sheikh haji hajji".split()
)
_COLUMNS = {
    "name": ("name", "full_name", "full name", "entity", "entity_name"),
    "aliases": ("aliases", "alias", "aka", "also_known_as", "other_names"),
    "date_of_birth": ("date_of_birth", "date of birth", "dob", "birth_date", "born"),
    "country": ("country", "nationality", "citizenship"),
    "programme": ("programme", "program", "regime", "list"),
    "reference": ("reference", "ref", "id", "uid", "entry_id"),
}
_VERSION_TTL_SECONDS = 10.0  # other processes' imports are seen within this long


def normalize(name: str) -> str:
    """A name as compared: lower case, no accents or punctuation, no honorifics."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    words = re.sub(r"[^a-z0-9 ]+", " ", plain.replace("'", "")).split()
    return " ".join(w for w in words if w not in _HONORIFICS)


@dataclass(frozen=True)
class Listed:
    """One name of a listed entry (its main name or an alias)."""

    entry_id: int
    list_name: str
    reference: str | None
    name: str  # the entry's main name
    matched: str  # the name or alias that matched
    date_of_birth: str | None
    country: str | None


@dataclass(frozen=True)
class Match:
    listed: Listed
    score: float  # 0..100 after the date-of-birth check

    def describe(self) -> str:
        ref = f" {self.listed.reference}" if self.listed.reference else ""
        return (
            f"resembles '{self.listed.matched}' on {self.listed.list_name}{ref} "
            f"(score {self.score:.0f})"
        )


class SanctionsIndex:
    """Every current listed name, normalized, with a blocking index by word."""

    def __init__(self, listed: list[Listed]) -> None:
        self.listed = listed
        self.names = [normalize(item.matched) for item in listed]
        self._by_word: dict[str, list[int]] = {}
        for position, name in enumerate(self.names):
            for word in set(name.split()):
                for key in _keys(word):
                    self._by_word.setdefault(key, []).append(position)

    def __len__(self) -> int:
        return len(self.listed)

    def search(
        self,
        name: str,
        *,
        date_of_birth: date | str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> list[Match]:
        """Listed entries whose name or alias resembles `name`, best first (one per entry)."""
        query = normalize(name)
        if not query or not self.listed:
            return []
        candidates: set[int] = set()
        for word in set(query.split()):
            for key in _keys(word):
                candidates.update(self._by_word.get(key, ()))
        if not candidates:
            return []
        positions = sorted(candidates)
        scored = process.extract(
            query,
            [self.names[p] for p in positions],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=threshold - 15,
            limit=None,
        )
        best: dict[int, Match] = {}
        for _, score, index in scored:
            listed = self.listed[positions[index]]
            adjusted = _with_birth(float(score), date_of_birth, listed.date_of_birth)
            if adjusted < threshold:
                continue
            found = best.get(listed.entry_id)
            if found is None or adjusted > found.score:
                best[listed.entry_id] = Match(listed, adjusted)
        return sorted(best.values(), key=lambda m: -m.score)


def _keys(word: str) -> tuple[str, ...]:
    """Blocking keys of a word: its first three letters and its consonant skeleton start,
    so "Mohamed" and "Muhammad" or "Jon" and "John" meet."""
    skeleton = re.sub(r"[aeiouyhw]", "", word[1:])
    return (word[:3], f"{word[:1]}~{skeleton[:2]}")


def _with_birth(score: float, given: date | str | None, listed: str | None) -> float:
    if not given or not listed:
        return score
    given_text = given.isoformat() if isinstance(given, date) else str(given)
    try:
        years = abs(int(given_text[:4]) - int(listed[:4]))
    except ValueError:
        return score
    if years > 1:
        return score - 15.0
    if given_text.startswith(listed) or listed.startswith(given_text):
        return min(score + 5.0, 100.0)
    return score


# --- the current index, per process ------------------------------------------------------

_cache: dict[str, Any] = {"key": None, "index": SanctionsIndex([]), "checked": 0.0}


def invalidate() -> None:
    """Forget the cached index (after an import in this process)."""
    _cache.update(key=None, checked=0.0)


def current_index(conn: Connection) -> SanctionsIndex:
    """The current lists' index; rebuilt when an import happened (checked every few seconds)."""
    now = time.monotonic()
    if _cache["key"] is not None and now - _cache["checked"] < _VERSION_TTL_SECONDS:
        return _cache["index"]  # type: ignore[no-any-return]
    key = tuple(conn.execute(select(func.max(sanctions_lists.c.id), func.count())).one())
    if key != _cache["key"]:
        _cache["index"] = SanctionsIndex(_current_entries(conn))
        _cache["key"] = key
    _cache["checked"] = now
    return _cache["index"]  # type: ignore[no-any-return]


def _current_entries(conn: Connection) -> list[Listed]:
    latest = (
        select(func.max(sanctions_lists.c.id).label("id"))
        .group_by(sanctions_lists.c.name)
        .subquery()
    )
    query = (
        select(sanctions_entries, sanctions_lists.c.name.label("list_name"))
        .join(sanctions_lists, sanctions_lists.c.id == sanctions_entries.c.list_id)
        .where(sanctions_entries.c.list_id.in_(select(latest.c.id)))
        .order_by(sanctions_entries.c.id)
    )
    listed = []
    for row in conn.execute(query).mappings():
        names = [row["name"], *json.loads(row["aliases"] or "[]")]
        for matched in dict.fromkeys(n for n in names if n):
            listed.append(
                Listed(
                    entry_id=int(row["id"]),
                    list_name=row["list_name"],
                    reference=row["reference"],
                    name=row["name"],
                    matched=matched,
                    date_of_birth=row["date_of_birth"],
                    country=row["country"],
                )
            )
    return listed


# --- importing a list ----------------------------------------------------------------------


@dataclass
class ImportReport:
    list_id: int
    list_name: str
    entries: int
    aliases: int


_DOB = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def read_csv(data: bytes) -> list[dict[str, Any]]:
    """The entries of a sanctions CSV, validated; a bad row is an error naming its line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.ValidationFailed("the sanctions file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().casefold(): h for h in reader.fieldnames or []}
    columns = {
        field: next((header[a] for a in names if a in header), None)
        for field, names in _COLUMNS.items()
    }
    if columns["name"] is None:
        raise errors.ValidationFailed("the sanctions file needs a 'name' column")
    entries = []
    for line, row in enumerate(reader, start=2):

        def value(field: str, row: dict[str, Any] = row) -> str:
            column = columns[field]
            return (row.get(column) or "").strip() if column else ""

        name = value("name")
        if not name:
            raise errors.ValidationFailed(f"line {line}: the name is empty")
        birth = value("date_of_birth")
        if birth and not _DOB.match(birth):
            raise errors.ValidationFailed(
                f"line {line}: date of birth {birth!r} is not YYYY, YYYY-MM or YYYY-MM-DD"
            )
        aliases = [a.strip() for a in re.split(r"[;|]", value("aliases")) if a.strip()]
        entries.append(
            {
                "name": name[:300],
                "aliases": json.dumps(aliases) if aliases else None,
                "date_of_birth": birth or None,
                "country": value("country")[:80] or None,
                "programme": value("programme")[:120] or None,
                "reference": value("reference")[:80] or None,
            }
        )
    if not entries:
        raise errors.ValidationFailed("the sanctions file has no entries")
    return entries


def import_list(
    conn: Connection,
    path: Path,
    *,
    list_name: str,
    actor_id: int | None = None,
) -> ImportReport:
    """Import a CSV as the new version of `list_name` (the previous one stays on record)."""
    data = path.read_bytes()
    entries = read_csv(data)
    now = utcnow()
    list_id = conn.execute(
        insert(sanctions_lists).values(
            name=list_name[:80],
            source_file=path.name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            entries=len(entries),
            imported_by=actor_id,
            imported_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    for start in range(0, len(entries), 1000):
        chunk = [{**e, "list_id": list_id} for e in entries[start : start + 1000]]
        conn.execute(insert(sanctions_entries), chunk)
    audit.record(
        conn,
        actor_id=actor_id,
        action="sanctions.imported",
        entity_type="sanctions_list",
        entity_id=int(list_id),
        after={"name": list_name, "file": path.name, "entries": len(entries)},
        at=now,
    )
    invalidate()
    aliases = sum(len(json.loads(e["aliases"])) for e in entries if e["aliases"])
    return ImportReport(int(list_id), list_name, len(entries), aliases)


# --- screening -----------------------------------------------------------------------------


def _alert(
    conn: Connection,
    match: Match,
    *,
    summary: str,
    user_id: int | None,
    account_id: int | None,
    transaction_id: int | None,
    now: datetime,
) -> None:
    """One open compliance alert per customer (or account) and listed entry."""
    owner = (
        risk_alerts.c.user_id == user_id
        if user_id is not None
        else risk_alerts.c.account_id == account_id
    )
    found = conn.execute(
        select(risk_alerts.c.id).where(
            risk_alerts.c.queue == "compliance",
            risk_alerts.c.rule_id == RULE_ID,
            risk_alerts.c.status != "closed",
            owner,
            risk_alerts.c.summary.like(f"%{match.listed.list_name}%"),
            risk_alerts.c.summary.like(f"%'{match.listed.matched}'%"),
        )
    ).first()
    if found is not None:
        return
    open_alert(
        conn,
        {
            "queue": "compliance",
            "transaction_id": transaction_id,
            "account_id": account_id,
            "user_id": user_id,
            "rule_id": RULE_ID,
            "severity": "high",
            "status": "open",
            "score": round(match.score / 100, 4),
            "verdict": "SUSPICIOUS",
            "summary": f"{RULE_ID}: {summary} {match.describe()}"[:500],
            "hits": 1,
            "last_transaction_id": transaction_id,
            "created_at": now,
            "updated_at": now,
        },
        now,
    )


def screen_customer(
    conn: Connection,
    *,
    user_id: int,
    full_name: str,
    date_of_birth: date | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Match]:
    """Screen a customer (at registration); each match opens a compliance alert."""
    matches = current_index(conn).search(
        full_name, date_of_birth=date_of_birth, threshold=threshold
    )
    now = utcnow()
    for match in matches:
        _alert(
            conn,
            match,
            summary=f"customer '{full_name}' registered;",
            user_id=user_id,
            account_id=None,
            transaction_id=None,
            now=now,
        )
    return matches


def screen_payee(
    conn: Connection,
    *,
    owner_id: int,
    payee_name: str,
    payee_account_id: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Match]:
    """Screen a payee a customer adds (saved payees); each match opens a compliance alert
    about the customer (`owner_id`) naming the payee. Returns the matches, best first."""
    matches = current_index(conn).search(payee_name, threshold=threshold)
    now = utcnow()
    for match in matches:
        _alert(
            conn,
            match,
            summary=f"payee '{payee_name}' added"
            + (f" (account {payee_account_id})" if payee_account_id else "")
            + ";",
            user_id=owner_id,
            account_id=None,
            transaction_id=None,
            now=now,
        )
    return matches


def payee_matches(
    conn: Connection, owner_ids: Iterable[int], *, threshold: float = DEFAULT_THRESHOLD
) -> dict[int, Match]:
    """The best match of each account owner's name (for payments to new payees, inline)."""
    index = current_index(conn)
    wanted = sorted(set(owner_ids))
    if not len(index) or not wanted:
        return {}
    rows = conn.execute(
        select(users.c.id, users.c.full_name, users.c.date_of_birth).where(users.c.id.in_(wanted))
    )
    found = {}
    for user_id, full_name, born in rows:
        matches = index.search(full_name, date_of_birth=born, threshold=threshold)
        if matches:
            found[int(user_id)] = matches[0]
    return found
