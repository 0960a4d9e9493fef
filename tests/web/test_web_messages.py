"""Every error code the API can answer has a human message in the web app."""

from __future__ import annotations

import re

import ledgerbank.app  # noqa: F401  (imports every domain, so every error class exists)
from ledgerbank import errors
from ledgerbank.web.router import STATIC

# Codes the HTTP layer itself answers (kit.http), besides the domain errors.
HTTP_CODES = {"malformed_request", "not_found", "method_not_allowed", "not_authenticated"}
HTTP_CODES |= {"http_error", "internal_error"}


def _domain_codes() -> set[str]:
    found: set[str] = set()
    pending: list[type[errors.LedgerbankError]] = [errors.LedgerbankError]
    while pending:
        error = pending.pop()
        pending.extend(error.__subclasses__())
        if error is not errors.LedgerbankError:
            found.add(error.code)
    return found


def test_every_error_code_has_a_message() -> None:
    source = (STATIC / "js" / "messages.js").read_text()
    table = source[source.index("const MESSAGES") : source.index("};")]
    messages = set(re.findall(r"^\s+([a-z_]+):", table, flags=re.MULTILINE))
    codes = _domain_codes() | HTTP_CODES
    assert len(codes) > 25
    assert codes - messages == set()
