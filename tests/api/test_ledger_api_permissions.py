"""The allow/deny matrix of the ledger API: every route x the six roles and no token, each on
the customer's own object and on another customer's, with the status written down here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api_helpers import PIN, Bank

from ledgerbank.ledger import accounts as account_service

CALLERS = (
    "alice",  # the customer; "own" objects are hers, "other" ones are Bob's
    "admin",
    "auditor",
    "fraud_analyst",
    "financial_manager",
    "compliance_officer",
    None,  # no token
)


@dataclass
class Objects:
    """Alice's and Bob's things, made fresh where a call uses them up."""

    bank: Bank
    account: dict[str, int]
    deposit: dict[str, int]

    def fresh_deposit(self, whose: str) -> int:
        return self.bank.fund(self.account[whose], "1.00")


def _freeze(objects: Objects, whose: str) -> None:
    account_id = objects.account[whose]
    objects.bank.database.write(
        lambda conn: account_service.set_status(
            conn, account_id, status="frozen", reason="matrix", actor_id=None
        )
    )


def _unfreeze_if_frozen(objects: Objects, whose: str) -> None:
    account_id = objects.account[whose]
    if objects.bank.get("admin", f"/accounts/{account_id}").json()["status"] == "frozen":
        objects.bank.database.write(
            lambda conn: account_service.set_status(
                conn, account_id, status="active", reason="matrix", actor_id=None
            )
        )


@dataclass
class Route:
    """How to call a route on alice's ("own") or bob's ("other") object."""

    name: str
    method: str
    path: Callable[[Objects, str], str]
    body: Callable[[Objects, str], Any] = lambda o, w: None
    before: Callable[[Objects, str], None] = lambda o, w: None
    after: Callable[[Objects, str], None] = lambda o, w: None
    upload: bool = False


def _account_path(suffix: str = "") -> Callable[[Objects, str], str]:
    return lambda o, w: f"/accounts/{o.account[w]}{suffix}"


def _transfer(o: Objects, w: str) -> dict[str, Any]:
    source, target = (o.account["alice"], o.account["bob"])
    if w == "bob":
        source, target = target, source
    return {"from_account_id": source, "to_account_id": target, "amount": "1.00"}


ROUTES = [
    Route("accounts-open", "POST", lambda o, w: "/accounts/",
          lambda o, w: {"account_type": "wallet"}),
    Route("accounts-list", "GET", lambda o, w: "/accounts/"),
    Route("accounts-get", "GET", _account_path()),
    Route("accounts-balance", "GET", _account_path("/balance")),
    Route("accounts-statement", "GET", _account_path("/statement")),
    Route("accounts-freeze", "POST", _account_path("/freeze"), lambda o, w: {"reason": "r"},
          after=_unfreeze_if_frozen),
    Route("accounts-unfreeze", "POST", _account_path("/unfreeze"), lambda o, w: {"reason": "r"},
          before=_freeze, after=_unfreeze_if_frozen),
    Route("transactions-deposit", "POST", lambda o, w: "/transactions/deposit",
          lambda o, w: {"account_id": o.account[w], "amount": "1.00"}),
    Route("transactions-withdraw", "POST", lambda o, w: "/transactions/withdraw",
          lambda o, w: {"account_id": o.account[w], "amount": "1.00", "pin": PIN}),
    Route("transactions-transfer", "POST", lambda o, w: "/transactions/transfer",
          lambda o, w: {**_transfer(o, w), "pin": PIN}),
    Route("transactions-batch", "POST", lambda o, w: "/transactions/batch",
          lambda o, w: {"transfers": [_transfer(o, w)], "pin": PIN}),
    Route("transactions-history", "GET", lambda o, w: "/transactions/history"),
    Route("transactions-get", "GET", lambda o, w: f"/transactions/{o.deposit[w]}"),
    Route("transactions-reverse", "POST",
          lambda o, w: f"/transactions/{o.fresh_deposit(w)}/reverse", lambda o, w: {"reason": "r"}),
    Route("transactions-flag", "POST", lambda o, w: f"/transactions/{o.deposit[w]}/flag",
          lambda o, w: {"reason": "r"}),
    Route("admin-import", "POST", lambda o, w: "/admin/import", upload=True),
]  # fmt: skip

# The expected status per route and caller: "on alice's object/on bob's object". Routes
# without an object (open, list, history, import) expect the same on both.
TABLE = """
route                   alice   admin   auditor fraud   finmgr  compl   none
accounts-open           201/201 403/403 403/403 403/403 403/403 403/403 401/401
accounts-list           200/200 200/200 200/200 200/200 200/200 200/200 401/401
accounts-get            200/404 200/200 200/200 200/200 200/200 200/200 401/401
accounts-balance        200/404 200/200 200/200 200/200 200/200 200/200 401/401
accounts-statement      200/404 200/200 200/200 200/200 200/200 200/200 401/401
accounts-freeze         200/404 200/200 403/403 200/200 403/403 200/200 401/401
accounts-unfreeze       403/404 200/200 403/403 200/200 403/403 200/200 401/401
transactions-deposit    201/404 201/201 403/403 403/403 403/403 403/403 401/401
transactions-withdraw   201/404 403/403 403/403 403/403 403/403 403/403 401/401
transactions-transfer   201/404 403/403 403/403 403/403 403/403 403/403 401/401
transactions-batch      201/404 403/403 403/403 403/403 403/403 403/403 401/401
transactions-history    200/200 200/200 200/200 200/200 200/200 200/200 401/401
transactions-get        200/404 200/200 200/200 200/200 200/200 200/200 401/401
transactions-reverse    403/403 201/201 403/403 403/403 403/403 403/403 401/401
transactions-flag       403/403 201/201 403/403 201/201 403/403 201/201 401/401
admin-import            403/403 200/200 403/403 403/403 403/403 403/403 401/401
"""


def _expected() -> dict[str, dict[str | None, tuple[int, int]]]:
    lines = [line.split() for line in TABLE.strip().splitlines()[1:]]
    table: dict[str, dict[str | None, tuple[int, int]]] = {}
    for name, *cells in lines:
        pairs = [tuple(int(x) for x in cell.split("/")) for cell in cells]
        table[name] = {caller: (p[0], p[1]) for caller, p in zip(CALLERS, pairs, strict=True)}
    return table


def _call(bank: Bank, route: Route, objects: Objects, who: str | None, whose: str) -> Any:
    route.before(objects, whose)
    try:
        path = route.path(objects, whose)
        if route.upload:
            files = {"file": ("h.csv", b"external_id,timestamp,type,from_account,to_account,"
                              b"amount,currency,description\n", "text/csv")}  # fmt: skip
            return bank.client.post(path, files=files, headers=bank.headers(who))
        return bank.call(who, route.method, path, json=route.body(objects, whose))
    finally:
        route.after(objects, whose)


def test_every_route_answers_each_caller_as_the_table_says(bank: Bank) -> None:
    expected = _expected()
    assert sorted(expected) == sorted(r.name for r in ROUTES)
    account = {"alice": bank.open_account("alice"), "bob": bank.open_account("bob")}
    deposit = {whose: bank.fund(account[whose], "1000.00") for whose in account}
    objects = Objects(bank, account, deposit)
    wrong: list[str] = []
    for route in ROUTES:
        for who in CALLERS:
            for column, whose in enumerate(("alice", "bob")):
                answer = _call(bank, route, objects, who, whose)
                want = expected[route.name][who][column]
                if answer.status_code != want:
                    wrong.append(
                        f"{route.name} as {who or 'no token'} on {whose}'s: "
                        f"{answer.status_code} (expected {want}) {answer.text[:120]}"
                    )
                elif want >= 400:
                    code = {401: "not_authenticated", 403: "forbidden", 404: "not_found"}[want]
                    if answer.json().get("code") != code:
                        wrong.append(f"{route.name} as {who}: code {answer.json().get('code')}")
    assert wrong == [], "\n".join(wrong)


def test_a_forged_or_expired_token_is_refused_everywhere(bank: Bank) -> None:
    account = {"alice": bank.open_account("alice"), "bob": bank.open_account("bob")}
    objects = Objects(bank, account, {w: bank.fund(account[w], "5.00") for w in account})
    bank.tokens["forged"] = bank.tokens["admin"][:-4] + "AAAA"
    for route in ROUTES:
        answer = _call(bank, route, objects, "forged", "alice")
        assert answer.status_code == 401, (route.name, answer.text)
        assert answer.json()["code"] == "not_authenticated"
