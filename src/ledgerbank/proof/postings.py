"""`ledger verify`: every posting against its entries, its audit record and the balance chains.

The verifier follows the audit chain: each posting's record (see `ledger.evidence`) names its
transaction, so walking the chain from where the last sound run stopped checks exactly what is
new. For each posting it compares the transaction, its entries and its score with the record,
checks the header against the entries (amount, currency, accounts, type), the status against
the reversal link, and each customer entry's `balance_after` against the one before it. Score
rows appended by rescoring are checked against the batch records that pin them. Then, cheaply,
over the whole ledger: every customer balance against its newest `balance_after`, no balance
below its limit, and row counts against what the audit trail accounts for (a row nobody
recorded is found there). A full run (`--full`) walks from the first record, runs the
integrity view's sums as well, and compares the digest of what earlier runs verified.

A sound run stores where it stopped (`ledger_verifications`: chain position and hash, counts,
digest) and writes a `ledger.verified` audit record, so the next run starts there.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, text

from ledgerbank.audit import service as audit
from ledgerbank.audit.tables import audit_chain
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import consistency, evidence, integrity
from ledgerbank.ledger.consistency import CHECKS, Finding
from ledgerbank.ledger.tables import accounts, entries, ledger_verifications, transactions
from ledgerbank.risk.tables import risk_scores

__all__ = ["CHECKS", "Finding", "Report", "Start", "Verifier", "run", "snapshot", "store"]

GENESIS = audit.GENESIS
CHUNK = 500  # ids per IN list
SHOWN = 20  # ids named in one finding at most


@dataclass(frozen=True)
class Start:
    """Where a run starts: after the last sound run's position, or at the beginning."""

    position: int = 0
    chain_hash: str = GENESIS
    transactions: int = 0
    entries: int = 0
    scores: int = 0
    digest: str = GENESIS
    verification_id: int | None = None


@dataclass
class Report:
    full: bool
    start: Start
    findings: list[Finding] = field(default_factory=list)
    records: int = 0  # sealed records walked in this run
    postings: int = 0  # postings checked in this run (unsealed ones included)
    position: int = 0
    chain_hash: str = GENESIS
    transactions: int = 0
    entries: int = 0
    scores: int = 0
    digest: str = GENESIS
    started_at: datetime = field(default_factory=utcnow)

    @property
    def ok(self) -> bool:
        return not self.findings


def last_start(conn: Connection) -> Start:
    row = (
        conn.execute(
            select(ledger_verifications).order_by(ledger_verifications.c.id.desc()).limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return Start()
    return Start(
        position=int(row["chain_position"]),
        chain_hash=row["chain_hash"],
        transactions=int(row["transactions"]),
        entries=int(row["entries"]),
        scores=int(row["scores"]),
        digest=row["digest"],
        verification_id=int(row["id"]),
    )


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _listed(ids: Iterable[int]) -> str:
    ordered = sorted(ids)
    shown = ", ".join(str(i) for i in ordered[:SHOWN])
    return shown + (f" and {len(ordered) - SHOWN} more" if len(ordered) > SHOWN else "")


def _content(header: RowMapping, own: list[RowMapping], score: RowMapping | None) -> str:
    """The rows a posting consists of, as the digest takes them (status aside: a reversal
    changes it later, and the reversal's own record covers that)."""
    rows = [
        {k: _plain(v) for k, v in header.items() if k != "status"},
        [{k: _plain(v) for k, v in entry.items()} for entry in own],
        None if score is None else {k: _plain(v) for k, v in score.items()},
    ]
    return json.dumps(rows, sort_keys=True, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return evidence.moment(value)
    if isinstance(value, float):
        return repr(value)
    return value


class Verifier:
    """Checks records fed to it in chain order (`feed`), then the whole ledger (`finish`)."""

    def __init__(self, conn: Connection, start: Start, *, full: bool) -> None:
        self.conn = conn
        self.report = Report(full=full, start=start)
        self.report.position, self.report.chain_hash = start.position, start.chain_hash
        self.report.transactions, self.report.entries = start.transactions, start.entries
        self.report.scores, self.report.digest = start.scores, start.digest
        self.unsealed = {"transactions": 0, "entries": 0, "scores": 0}
        self.covered_scores: set[int] = set()
        self.seen_transactions: set[int] = set()
        # A full run's digest at each position an earlier run stopped, to compare with theirs.
        self.digest_at: dict[int, str] = {}
        self._earlier_positions: set[int] = set()
        if full:
            stopped = select(ledger_verifications.c.chain_position)
            self._earlier_positions = {int(p) for p in conn.execute(stopped).scalars()}
        self._accounts: dict[int, RowMapping] = {}
        self._last_entry: dict[int, tuple[int, int | None]] = {}  # account -> (entry id, after)

    def add(self, check: str, subject: str, detail: str) -> None:
        self.report.findings.append(Finding(check, subject, detail))

    # --- records --------------------------------------------------------------------------

    def feed(self, rows: list[RowMapping], sealed: bool) -> None:
        """One batch of checked audit records (chain order), sealed or not yet."""
        postings: list[tuple[RowMapping, dict[str, Any]]] = []
        batches: list[tuple[RowMapping, dict[str, Any]]] = []
        for row in rows:
            after = json.loads(row["after"]) if row["after"] else None
            if isinstance(after, dict) and evidence.is_posting_record(row["entity_type"], after):
                postings.append((row, after))
            elif row["action"] in evidence.SCORE_BATCHES and isinstance(after, dict):
                batches.append((row, after))
        extras = self._postings(postings, sealed) if postings else {}
        for row, after in batches:
            self._score_batch(row, after, sealed)
        if not sealed:
            return
        digest = self.report.digest
        for row in rows:
            step = hashlib.sha256((digest + row["chain_hash"]).encode())
            extra = extras.get(int(row["id"]))
            if extra is not None:
                step.update(extra.encode())
            digest = step.hexdigest()
            if int(row["position"]) in self._earlier_positions:
                self.digest_at[int(row["position"])] = digest
        self.report.digest = digest
        self.report.records += len(rows)
        self.report.position, self.report.chain_hash = (
            int(rows[-1]["position"]),
            rows[-1]["chain_hash"],
        )

    def _postings(
        self, items: list[tuple[RowMapping, dict[str, Any]]], sealed: bool
    ) -> dict[int, str]:
        ids: list[int] = []
        for row, _after in items:
            try:
                ids.append(int(row["entity_id"]))
            except (TypeError, ValueError):
                self.add("missing_transaction", f"audit record {row['id']}", "names no transaction")
        found = self._rows(transactions, transactions.c.id, ids)
        headers = {int(r["id"]): r for r in found}
        legs: dict[int, list[RowMapping]] = defaultdict(list)
        for entry in self._rows(entries, entries.c.transaction_id, ids, order=entries.c.id):
            legs[int(entry["transaction_id"])].append(entry)
        scores: dict[int, list[RowMapping]] = defaultdict(list)
        for score in self._rows(
            risk_scores, risk_scores.c.transaction_id, ids, order=risk_scores.c.id
        ):
            scores[int(score["transaction_id"])].append(score)
        reversed_by = {
            int(r["reverses_id"]): r
            for r in self._rows(transactions, transactions.c.reverses_id, ids)
        }
        originals = {int(h["reverses_id"]) for h in found if h["reverses_id"] is not None}
        original_headers = {
            int(r["id"]): r for r in self._rows(transactions, transactions.c.id, list(originals))
        }
        original_legs: dict[int, list[RowMapping]] = defaultdict(list)
        for entry in self._rows(
            entries, entries.c.transaction_id, list(originals), order=entries.c.id
        ):
            original_legs[int(entry["transaction_id"])].append(entry)
        self._load_accounts({int(e["account_id"]) for group in legs.values() for e in group})
        extras: dict[int, str] = {}
        for row, record in items:
            try:
                transaction_id = int(row["entity_id"])
            except (TypeError, ValueError):
                continue
            header = headers.get(transaction_id)
            if header is None:
                self.add(
                    "missing_transaction",
                    f"transaction {transaction_id}",
                    f"audit record {row['id']} records it; the ledger has no such transaction",
                )
                continue
            own = legs.get(transaction_id, [])
            posting_scores = [s for s in scores.get(transaction_id, []) if s["origin"] == "posting"]
            first = posting_scores[0] if posting_scores else None
            if first is None and any(
                s["origin"] == "migrated" for s in scores.get(transaction_id, [])
            ):
                record = {k: v for k, v in record.items() if k != "risk"}  # pinned by 0010's record
            differences = evidence.differences(
                record, header, [(int(e["account_id"]), int(e["amount"])) for e in own], first
            )
            if differences:
                self.add(
                    "evidence_mismatch",
                    f"transaction {transaction_id}",
                    f"differs from its audit record {row['id']}: " + "; ".join(differences),
                )
            for extra in posting_scores[1:]:
                self.add(
                    "unrecorded_rows",
                    f"risk score {extra['id']}",
                    f"a second posting-time score of transaction {transaction_id}, unrecorded",
                )
            self.report.findings += consistency.transaction_findings(
                header,
                own,
                reversed_by.get(transaction_id),
                original_headers,
                original_legs,
                self._accounts,
            )
            self._chains(own)
            self.seen_transactions.add(transaction_id)
            self._count(sealed, transactions=1, entries=len(own), scores=int(first is not None))
            if first is not None:
                self.covered_scores.add(int(first["id"]))
            self.report.postings += 1
            extras[int(row["id"])] = _content(header, own, first)
        return extras

    def _rows(
        self, table: Any, column: Any, ids: Sequence[int], *, order: Any = None
    ) -> list[RowMapping]:
        found: list[RowMapping] = []
        for chunk in _chunks(ids):
            query = select(table).where(column.in_(chunk))
            if order is not None:
                query = query.order_by(order)
            found.extend(self.conn.execute(query).mappings())
        if order is not None:
            found.sort(key=lambda r: r[order.name])
        return found

    def _load_accounts(self, ids: set[int]) -> None:
        missing = [i for i in ids if i not in self._accounts]
        for row in self._rows(accounts, accounts.c.id, missing):
            self._accounts[int(row["id"])] = row

    def _is_internal(self, account_id: int) -> bool:
        account = self._accounts.get(account_id)
        return bool(account["is_internal"]) if account is not None else False

    def _chains(self, own: list[RowMapping]) -> None:
        """Each customer entry's balance_after is the previous entry's plus its amount."""
        for entry in own:
            account_id, entry_id = int(entry["account_id"]), int(entry["id"])
            if self._is_internal(account_id):
                continue
            last = self._last_entry.get(account_id)
            if last is None or last[0] > entry_id:
                previous = self.conn.execute(
                    select(entries.c.balance_after)
                    .where(entries.c.account_id == account_id, entries.c.id < entry_id)
                    .order_by(entries.c.id.desc())
                    .limit(1)
                ).first()
                before: int | None = 0 if previous is None else previous[0]
            else:
                before = last[1]
            after = entry["balance_after"]
            if after is None or before is None or int(after) != int(before) + int(entry["amount"]):
                self.add(
                    "broken_balance_chain",
                    f"entry {entry_id}",
                    f"account {account_id}: balance_after {after}, but {before} + "
                    f"{int(entry['amount'])} before it",
                )
            self._last_entry[account_id] = (entry_id, None if after is None else int(after))

    def _score_batch(self, row: RowMapping, record: dict[str, Any], sealed: bool) -> None:
        subject = f"audit record {row['id']}"
        try:
            ids = evidence.run_ids(record["ids"])
        except (KeyError, TypeError, ValueError):
            self.add("score_batch", subject, "names no score rows")
            return
        rows = self._rows(risk_scores, risk_scores.c.id, ids, order=risk_scores.c.id)
        if len(rows) != len(ids) or len(ids) != record.get("count"):
            gone = set(ids) - {int(r["id"]) for r in rows}
            self.add(
                "score_batch", subject, f"pins {len(ids)} score rows; missing: {_listed(gone)}"
            )
        elif evidence.score_rows_digest(rows) != record.get("sha256"):
            self.add(
                "score_batch",
                subject,
                f"the {len(ids)} score rows it pins (ids {_listed(ids)}) changed since",
            )
        self.covered_scores.update(int(r["id"]) for r in rows)
        self._count(sealed, scores=len(rows))

    def _count(
        self, sealed: bool, *, transactions: int = 0, entries: int = 0, scores: int = 0
    ) -> None:
        """Rows accounted for: sealed ones go into the stored totals, unsealed only this run's."""
        if sealed:
            self.report.transactions += transactions
            self.report.entries += entries
            self.report.scores += scores
        else:
            self.unsealed["transactions"] += transactions
            self.unsealed["entries"] += entries
            self.unsealed["scores"] += scores

    # --- the whole ledger ------------------------------------------------------------------------

    def finish(self) -> Report:
        """Balances, limits and row counts over the whole ledger (cheap: index probes, counts)."""
        conn = self.conn
        newest = (
            select(entries.c.balance_after)
            .where(entries.c.account_id == accounts.c.id)
            .order_by(entries.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        for row in conn.execute(
            select(
                accounts.c.id, accounts.c.balance, accounts.c.overdraft_limit, newest.label("last")
            ).where(accounts.c.is_internal == 0)
        ):
            expected = 0 if row.last is None else int(row.last)
            if int(row.balance) != expected:
                self.add(
                    "balance_mismatch",
                    f"account {row.id}",
                    f"balance {int(row.balance)}, newest balance_after {row.last}",
                )
            if int(row.balance) + int(row.overdraft_limit) < 0:
                self.add("below_limit", f"account {row.id}", f"balance {int(row.balance)}")
        self._counts()
        if self.report.full or not self.report.start.position:
            self._integrity_view()
        if self.report.full:
            self._earlier_digests()
        return self.report

    def _integrity_view(self) -> None:
        """The view's sums over everything, for what the walk did not already report."""
        known = {(f.check, f.subject) for f in self.report.findings}
        for violation in integrity.violations(self.conn):
            subject = f"{violation.entity_type} {violation.entity_id}"
            if (violation.check, subject) not in known:
                self.add(
                    violation.check,
                    subject,
                    f"{violation.meaning} (difference {violation.difference}, "
                    "vw_ledger_integrity_check)",
                )

    def _counts(self) -> None:
        conn = self.conn
        for name, table in (
            ("transactions", transactions),
            ("entries", entries),
            ("scores", risk_scores),
        ):
            stored = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            accounted = getattr(self.report, name) + self.unsealed[name]
            if stored == accounted:
                continue
            label = {"scores": "risk score rows"}.get(name, name)
            detail = f"{stored} {label} stored, the audit trail accounts for {accounted}" + (
                " (rows were removed)" if stored < accounted else ""
            )
            located = self._unrecorded(name) if stored > accounted else []
            if located:
                detail += f"; not recorded: ids {_listed(located)}"
            elif stored > accounted and not self.report.full:
                detail += "; `ledger verify --full` names them"
            self.add("unrecorded_rows", name, detail)

    def _unrecorded(self, name: str) -> list[int]:
        conn = self.conn
        if name == "transactions":
            if self.report.full:
                return [
                    int(i)
                    for i in conn.execute(select(transactions.c.id)).scalars()
                    if int(i) not in self.seen_transactions
                ]
            dialect = conn.dialect.name
            as_text = {"postgresql": "VARCHAR", "mysql": "CHAR"}.get(dialect, "TEXT")
            query = text(
                "SELECT t.id FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM audit_log l "
                f"WHERE l.entity_type = 'transaction' AND l.entity_id = CAST(t.id AS {as_text})) "
                "ORDER BY t.id"
            )
            return [int(i) for i in conn.execute(query).scalars()]
        if name == "scores" and self.report.full:
            return [
                int(i)
                for i in conn.execute(select(risk_scores.c.id)).scalars()
                if int(i) not in self.covered_scores
            ]
        if name == "entries" and self.report.full:
            rows = conn.execute(select(entries.c.id, entries.c.transaction_id)).all()
            return [int(r.id) for r in rows if int(r.transaction_id) not in self.seen_transactions]
        return []

    def _earlier_digests(self) -> None:
        earlier = self.conn.execute(
            select(ledger_verifications).order_by(ledger_verifications.c.id)
        )
        for row in earlier.mappings():
            position = int(row["chain_position"])
            if position == 0:
                continue
            now = self.digest_at.get(position)
            if now is not None and now != row["digest"]:
                self.add(
                    "digest_changed",
                    f"verification {row['id']}",
                    f"what it verified on {evidence.moment(row['finished_at'])} (up to chain "
                    f"position {position}) has changed since",
                )


@contextmanager
def snapshot(database: Database) -> Iterator[Connection]:
    """One consistent view of the database for a whole run (REPEATABLE READ on PostgreSQL and
    MySQL; SQLite's read transaction is one already), so postings committing meanwhile are
    either wholly in it or not at all."""
    with database.engine.connect() as conn:
        if database.dialect == "sqlite":
            conn = conn.execution_options(sqlite_begin="DEFERRED")
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def head_position(conn: Connection) -> int:
    found = conn.execute(select(func.max(audit_chain.c.position))).scalar()
    return int(found or 0)


def run(
    conn: Connection,
    *,
    full: bool = False,
    batch: int = 2_000,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify from the last sound run's position (or from the beginning) to the chain's head.

    Run it inside one `snapshot`, after sealing what is pending; `progress` hears how many
    records each batch walked.
    """
    start = Start() if full else last_start(conn)
    verifier = Verifier(conn, start, full=full)
    if start.position:
        link = conn.execute(
            select(audit_chain.c.chain_hash).where(audit_chain.c.position == start.position)
        ).scalar()
        if link != start.chain_hash:
            # What was verified is no longer what is there: look at everything again.
            verifier = Verifier(conn, Start(), full=True)
            verifier.add(
                "chain_rewritten",
                f"chain position {start.position}",
                "the chain ends before the position the last run verified: records were removed"
                if link is None
                else "the chain hash at the last verified position changed: records up to it "
                "were rewritten (checked again from the first record)",
            )
            start = Start()
    try:
        for rows in audit.walk(conn, after=start.position, prev=start.chain_hash, batch=batch):
            verifier.feed(rows, True)
            if progress is not None:
                progress(len(rows))
    except audit.ChainBroken as broken:
        verifier.add("audit_chain", f"audit record {broken.audit_id}", broken.detail)
    unsealed = audit.unsealed_records(conn)
    if unsealed:
        verifier.feed(unsealed, False)
    return verifier.finish()


def store(conn: Connection, report: Report) -> int:
    """Remember a sound run (the next starts where it stopped) and record it in the audit trail."""
    assert report.ok
    values = {
        "chain_position": report.position,
        "chain_hash": report.chain_hash,
        "transactions": report.transactions,
        "entries": report.entries,
        "scores": report.scores,
        "digest": report.digest,
        "full_run": report.full,
        "checked": report.records,
        "started_at": report.started_at,
        "finished_at": utcnow(),
    }
    inserted = conn.execute(insert(ledger_verifications), values).inserted_primary_key
    verification_id = int(inserted[0])  # type: ignore[index]
    audit.record(
        conn,
        actor_id=None,
        action="ledger.verified",
        entity_type="ledger",
        entity_id=verification_id,
        after={k: v for k, v in values.items() if k not in ("started_at", "finished_at")},
    )
    return verification_id
