"""HTTP plumbing shared by every router: problem+json, exact JSON numbers, request ids."""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledgerbank.errors import LedgerbankError, ValidationFailed
from ledgerbank.kit import context
from ledgerbank.kit.money import ScientificNumber

log = logging.getLogger("ledgerbank.http")
PROBLEM = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://ledgerbank.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    if (request_id := context.request_id.get()) is not None:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _problem_schema(codes: list[str]) -> dict[str, Any]:
    """The JSON schema of a problem+json body whose `code` is one of `codes`."""
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string", "enum": codes},
            "request_id": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {"type": "array", "items": {"type": "string"}},
                        "msg": {"type": "string"},
                        "type": {"type": "string"},
                    },
                },
            },
        },
        "additionalProperties": True,
    }


def problem_responses(
    *error_types: type[LedgerbankError], validation: bool = True
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each possible error as problem+json, grouped by status.

    `validation=True` (the default) adds the 422 `validation_error` (and 400
    `malformed_request`) every route with parameters or a body can answer; it also replaces
    FastAPI's own 422 schema, which does not describe what ledgerbank sends.
    """
    by_status: dict[int, dict[str, str]] = {}
    types = list(error_types)
    if validation:
        types.append(ValidationFailed)
        by_status.setdefault(400, {})["malformed_request"] = "Malformed request"
    for error_type in types:
        by_status.setdefault(error_type.status, {})[error_type.code] = error_type.title
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted(by_status):
        codes = by_status[status]
        responses[status] = {
            "description": "; ".join(f"`{code}`: {title}" for code, title in codes.items()),
            "content": {PROBLEM: {"schema": _problem_schema(sorted(codes))}},
        }
    return responses


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _exact_number(text: str) -> Decimal:
    return ScientificNumber(text) if "e" in text or "E" in text else Decimal(text)


MAX_JSON_DEPTH = 64


def _too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than `limit` (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual case: not even enough brackets
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


class ExactJSONRequest(Request):
    """Decodes JSON numbers with a fraction as Decimal, so amounts never pass through float.

    Bodies nested deeper than MAX_JSON_DEPTH are malformed (400), not a recursion error (500).
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if _too_deep(body):
                raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH}", "", 0)
            try:
                found = json.loads(body, parse_float=_exact_number, parse_constant=_refuse_constant)
            except RecursionError:
                raise json.JSONDecodeError("nested too deeply", "", 0) from None
            # A bare number is never a request body here. Left a Decimal, FastAPI's validation
            # (from_attributes) would read it as an object whose every field is missing, and a
            # model of optional fields would accept it; as a float it is refused.
            self._json = float(found) if isinstance(found, Decimal) else found
        return self._json


INTEGER = re.compile(r"-?[0-9]+")


def _is_integer_schema(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "integer":
        return True
    return any(_is_integer_schema(option) for option in schema.get("anyOf", ()))


class LedgerRoute(APIRoute):
    """Decodes JSON numbers exactly, and takes integer parameters only as plain digits."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact_handler(request: Request) -> Response:
            self._refuse_padded_integers(request)
            return await handler(ExactJSONRequest(request.scope, request.receive))

        return exact_handler

    def _integer_parameters(self, request: Request) -> list[tuple[str, str]]:
        """(in, name) of this operation's documented integer path and query parameters."""
        by_method: dict[str, list[tuple[str, str]]] = self.__dict__.setdefault("_integers", {})
        method = request.method.lower()
        if method not in by_method:
            paths = request.app.openapi()["paths"]
            operation = paths.get(self.path_format, {}).get(method, {})
            by_method[method] = [
                (parameter["in"], parameter["name"])
                for parameter in operation.get("parameters", ())
                if parameter["in"] in ("path", "query")
                and _is_integer_schema(parameter.get("schema", {}))
            ]
        return by_method[method]

    def _refuse_padded_integers(self, request: Request) -> None:
        """Refuse "1\\n", " 7" or "1_000" for an integer, which pydantic's lax parsing would
        take: the schema says integer, so only digits (and a minus sign) are one."""
        errors = []
        for location, name in self._integer_parameters(request):
            if location == "path":
                values = [str(request.path_params.get(name, "0"))]
            else:
                values = request.query_params.getlist(name)
            if any(not INTEGER.fullmatch(value) for value in values):
                errors.append(
                    {
                        "type": "int_parsing",
                        "loc": (location, name),
                        "msg": "Input should be a valid integer: digits only",
                    }
                )
        if errors:
            raise RequestValidationError(errors)


@functools.lru_cache(maxsize=512)
def _path_pattern(template: str) -> re.Pattern[str]:
    """`/accounts/{account_id}` as a regular expression matching `/accounts/42`."""
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def _allowed_methods(request: Request) -> str:
    """The methods the API documents for this request's path (RFC 9110 `Allow`).

    Starlette's 405 names only the methods of the first route on the path (/users/profile is
    served by two routes, GET and PUT). A literal path wins over templates that also match it:
    /transactions/deposit is not a transaction id.
    """
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    path = request.url.path
    matching = [path] if path in paths else [t for t in paths if _path_pattern(t).fullmatch(path)]
    return ", ".join(sorted({method.upper() for t in matching for method in paths[t]}))


def install_error_handlers(app: FastAPI) -> None:
    async def _domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LedgerbankError)
        response = problem(exc.status, exc.code, exc.title, exc.detail, **exc.extra)
        if exc.status == 401:  # RFC 6750: say which scheme would be accepted
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    async def _validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        malformed = any(e["type"] in ("json_invalid", "value_error.jsondecode") for e in errors)
        status = 400 if malformed else 422
        return problem(
            status,
            "malformed_request" if malformed else "validation_error",
            "Malformed request" if malformed else "Validation error",
            "the request body is not valid JSON"
            if malformed
            else "the request does not match the expected fields",
            errors=errors,
        )

    async def _http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        codes = {
            400: "malformed_request",  # e.g. FastAPI's "error parsing the body" (bad UTF-8)
            404: "not_found",
            405: "method_not_allowed",
            401: "not_authenticated",
        }
        code = codes.get(exc.status_code, "http_error")
        response = problem(exc.status_code, code, str(exc.detail), str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            response.headers["Allow"] = allowed
        return response

    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "internal_error", "Internal error", "an unexpected error occurred")

    app.add_exception_handler(LedgerbankError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


class RequestIdMiddleware:
    """Gives every request an id (or keeps the caller's X-Request-ID) for logs and the audit."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
        # Only ids that cannot forge a log line or an audit field: letters, digits, . _ : -
        request_id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = context.request_id.set(request_id)

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            context.request_id.reset(token)
