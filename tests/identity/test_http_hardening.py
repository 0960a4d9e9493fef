"""App-wide HTTP hardening: headers, CORS, readiness, metrics, OpenAPI, docs and the logs."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from identity_bank import PASSWORD, Bank, identity_settings, make_bank

from ledgerbank.app import create_app
from ledgerbank.kit import context
from ledgerbank.kit.logging import ContextFilter, JSONFormatter, ReadableFormatter, redact

OWN_ROUTES = ("/auth/", "/users/", "/admin/users", "/audit/", "/ready")


def test_security_headers_on_answers_and_errors(bank: Bank) -> None:
    for response in (
        bank.call("customer", "GET", "/auth/me"),
        bank.call(None, "GET", "/auth/me"),
        bank.client.get("/no-such-route"),
        bank.client.get("/docs"),
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self';" in csp  # no inline or eval'd script anywhere
        assert "frame-ancestors 'none'" in csp
        assert "x-request-id" in headers
    me = bank.call("customer", "GET", "/auth/me")
    assert me.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in me.headers  # only in production, behind TLS


@pytest.fixture
def cors_bank(database_url: str, tmp_path: Path) -> Iterator[Bank]:
    yield from make_bank(
        database_url, tmp_path, cors_origins="https://app.example, https://ops.example"
    )


def test_cors_answers_only_the_allowed_origins(cors_bank: Bank) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }
    allowed = cors_bank.client.options(
        "/auth/login", headers={"Origin": "https://ops.example", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
    assert "access-control-allow-credentials" not in allowed.headers
    assert "idempotency-key" in allowed.headers["access-control-allow-headers"].lower()
    refused = cors_bank.client.options(
        "/auth/login", headers={"Origin": "https://evil.example", **preflight}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = cors_bank.call("customer", "GET", "/auth/me")
    assert "access-control-allow-origin" not in simple.headers
    other = cors_bank.client.get(
        "/auth/me", headers={"Origin": "https://evil.example", **cors_bank.headers("customer")}
    )
    assert "access-control-allow-origin" not in other.headers


def test_no_cors_headers_without_an_allow_list(bank: Bank) -> None:
    response = bank.client.options(
        "/auth/login",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_ready_when_migrated(bank: Bank) -> None:
    response = bank.client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "replica": "no_replica"}


@pytest.mark.parametrize("database", ["unmigrated", "unreachable"])
def test_not_ready_is_a_503_problem(tmp_path: Path, database: str) -> None:
    url = (
        f"sqlite:///{tmp_path / 'empty.db'}"
        if database == "unmigrated"
        else "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    )
    with TestClient(create_app(identity_settings(url, tmp_path))) as client:
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unavailable"
        assert "nobody" not in response.text  # no connection details leak
        assert client.get("/health").status_code == 200  # liveness touches nothing


def test_metrics_count_requests_by_route_template_and_domain_events(bank: Bank) -> None:
    customer = bank.users["customer"]
    bank.call("admin", "PUT", f"/admin/users/{customer}/kyc", json={"kyc_status": "verified"})
    bank.login("customer", "wrong password")
    bank.login("customer")
    response = bank.call("auditor", "GET", "/metrics")  # a staff role (or the scrape token)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert re.search(
        r'ledgerbank_http_requests_total\{method="PUT",route="/admin/users/\{user_id\}/kyc",'
        r'status="200"\} [1-9]',
        text,
    )
    assert f"/admin/users/{customer}/kyc" not in text  # never the raw path
    assert 'ledgerbank_http_request_duration_seconds_bucket{le="0.1",method="POST"' in text
    assert re.search(r'ledgerbank_logins_failed_total\{reason="wrong_password"\} [1-9]', text)
    assert re.search(r"ledgerbank_logins_succeeded_total [1-9]", text)
    for name in ("transfers_posted_total", "pins_locked_total", "transactions_blocked_total"):
        assert f"ledgerbank_{name}" in text


@pytest.fixture
def offline_client(tmp_path: Path) -> TestClient:
    """The app without its lifespan: enough for pages that touch no database."""
    return TestClient(create_app(identity_settings(f"sqlite:///{tmp_path}/unused.db", tmp_path)))


def test_openapi_has_the_bearer_scheme_and_each_route_lists_its_errors(
    offline_client: TestClient,
) -> None:
    schema = offline_client.get("/openapi.json").json()
    scheme = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"
    login_body = schema["paths"]["/auth/login"]["post"]["requestBody"]["content"]
    assert set(login_body) == {"application/json"}  # clients' login: one typed body
    token_body = schema["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert set(token_body) == {"application/x-www-form-urlencoded"}  # the docs page's form
    checked = 0
    for path, operations in schema["paths"].items():
        if not path.startswith(OWN_ROUTES):
            continue
        for method, operation in operations.items():
            checked += 1
            tag = operation["tags"][0]
            assert operation["operationId"].startswith(f"{tag}-"), (method, path)
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            assert errors, (method, path)
            for response in errors.values():
                codes = response["content"]["application/problem+json"]["schema"]["properties"]
                assert codes["code"]["enum"], (method, path)
            if operation.get("security"):
                assert "401" in errors, (method, path)
                assert "403" in errors, (method, path)
            assert "HTTPValidationError" not in json.dumps(operation)
    assert checked == 32
    problem = schema["paths"]["/auth/login"]["post"]["responses"]["401"]
    assert problem["content"]["application/problem+json"]["schema"]["properties"]["code"][
        "enum"
    ] == ["invalid_credentials", "invalid_second_factor", "second_factor_required"]


def test_docs_pages_load_only_local_assets(offline_client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = offline_client.get(page)
        assert html.status_code == 200
        sources = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html.text)
        assert sources
        assert all(source.startswith("/") for source in sources), sources
        assert "<script>" not in html.text  # no inline script for the CSP to refuse
        for source in sources:
            assert offline_client.get(source).status_code == 200, source
    init = offline_client.get("/docs/swagger-init.js")
    assert init.headers["content-type"].startswith("text/javascript")
    assert "/openapi.json" in init.text


def test_the_logs_never_carry_passwords_pins_or_tokens(bank: Bank) -> None:
    readable, lines = io.StringIO(), io.StringIO()
    handlers = [logging.StreamHandler(readable), logging.StreamHandler(lines)]
    handlers[0].setFormatter(ReadableFormatter())
    handlers[1].setFormatter(JSONFormatter())
    root = logging.getLogger()
    level = root.level
    for handler in handlers:
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    secrets: list[str] = [PASSWORD, "918273", "a long enough passphrase", "wrong horse battery"]
    try:
        registered = bank.client.post(
            "/auth/register",
            json={
                "username": "eve",
                "password": "a long enough passphrase",
                "email": "eve@example.com",
                "full_name": "Eve",
                "date_of_birth": "1980-02-02",
            },
        )
        assert registered.status_code == 201
        token = bank.login("customer").json()["access_token"]
        secrets.append(token)
        secrets.append(token.split(".")[2])  # the signature alone
        bank.login("customer", "wrong horse battery")
        bank.client.post("/auth/login", data={"username": "customer", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token}"}
        assert bank.client.get("/auth/me", headers=headers).status_code == 200
        body = {"pin": "918273", "password": PASSWORD}
        pin = bank.client.put("/users/pin", headers=headers, json=body)
        assert pin.status_code == 200
        bank.client.get("/auth/me", headers={"Authorization": "Bearer not.a.token-secret"})
        # a careless message in some module is scrubbed on its way out
        logging.getLogger("ledgerbank.somewhere").warning(
            "retrying with Authorization: Bearer %s and password=%s", token, PASSWORD
        )
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(level)
    text, json_text = readable.getvalue(), lines.getvalue()
    assert "POST /auth/login 200" in text
    assert "GET /auth/me 200" in text
    assert "PUT /users/pin 200" in text
    for secret in [*secrets, "not.a.token-secret", "Authorization: Bearer"]:
        assert secret not in text, secret
        assert secret not in json_text, secret
    access = [json.loads(line) for line in json_text.splitlines()]
    pin_line = next(entry for entry in access if entry.get("route") == "/users/pin")
    assert pin_line["method"] == "PUT"
    assert pin_line["status"] == 200
    assert pin_line["duration_ms"] >= 0
    assert pin_line["request_id"] == pin.headers["x-request-id"]
    assert all(entry["request_id"] for entry in access if entry["logger"] == "ledgerbank.access")
    assert "$argon2" not in text  # no SQL with its parameters either


def test_redact_and_request_id_in_each_line() -> None:
    scrubbed = redact("Authorization: Bearer abc.def.ghi")
    assert "abc.def.ghi" not in scrubbed
    assert scrubbed.startswith("Authorization: [redacted]")
    assert redact('{"password": "hunter22", "pin": "1234"}') == (
        '{"password": [redacted], "pin": [redacted]}'
    )
    assert "eyJ" not in redact("token eyJhbGciOi.eyJzdWIi.sig-nature here")
    record = logging.LogRecord("lb.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    reset = context.request_id.set("req-42")
    try:
        ContextFilter().filter(record)
    finally:
        context.request_id.reset(reset)
    entry = json.loads(JSONFormatter().format(record))
    assert entry["request_id"] == "req-42"
    assert entry["message"] == "hello you"
    assert "[req-42] hello you" in ReadableFormatter().format(record)
