"""The domain errors: each has a stable machine-readable `code` and an HTTP status.

The app renders every one of them as RFC 9457 application/problem+json; the CLI prints the
detail in one line and exits non-zero.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerbankError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


# 400 / 422: malformed input and broken business rules
class InvalidAmount(LedgerbankError):
    code, status, title = "invalid_amount", 422, "Invalid amount"


class UnknownCurrency(LedgerbankError):
    code, status, title = "unknown_currency", 422, "Unknown currency"


class ValidationFailed(LedgerbankError):
    code, status, title = "validation_error", 422, "Validation error"


class WebhookUrlRefused(LedgerbankError):
    code, status, title = "webhook_url_refused", 422, "Webhook address refused"


class InsufficientFunds(LedgerbankError):
    code, status, title = "insufficient_funds", 422, "Insufficient funds"


class AccountFrozen(LedgerbankError):
    code, status, title = "account_frozen", 422, "Account frozen"


class AccountClosed(LedgerbankError):
    code, status, title = "account_closed", 422, "Account closed"


class CurrencyMismatch(LedgerbankError):
    code, status, title = "currency_mismatch", 422, "Currency mismatch"


class SameAccount(LedgerbankError):
    code, status, title = "same_account", 422, "Same account"


class UnbalancedPosting(LedgerbankError):
    code, status, title = "unbalanced_posting", 422, "Unbalanced posting"


class NotReversible(LedgerbankError):
    code, status, title = "not_reversible", 409, "Transaction cannot be reversed"


class BlockedByRisk(LedgerbankError):
    code, status, title = "blocked_by_risk", 422, "Blocked by risk screening"


class ImportRejected(LedgerbankError):
    code, status, title = "import_rejected", 422, "Import rejected"


class LimitExceeded(LedgerbankError):
    code, status, title = "limit_exceeded", 422, "Daily limit exceeded"


class PaymentDeclined(LedgerbankError):
    """What a customer hears of a payment the risk screen blocked: nothing more than this."""

    code, status, title = "payment_declined", 422, "Payment could not be completed"


class InvalidRate(LedgerbankError):
    code, status, title = "invalid_rate", 422, "Invalid rate"


class NoRateInForce(LedgerbankError):
    """No exchange rate for this pair of currencies is in force (none set, or none valid yet)."""

    code, status, title = "no_rate_in_force", 422, "No exchange rate in force"


class SameCurrency(LedgerbankError):
    code, status, title = "same_currency", 422, "Same currency"


class InvalidTransition(LedgerbankError):
    code, status, title = "invalid_transition", 409, "Invalid state change"


class HoldNotActive(LedgerbankError):
    """A capture or void of a hold already captured, voided or expired."""

    code, status, title = "hold_not_active", 409, "Hold is not active"


class CaptureExceedsHold(LedgerbankError):
    code, status, title = "capture_exceeds_hold", 422, "Capture exceeds the hold"


# authentication and authorization
class NotAuthenticated(LedgerbankError):
    code, status, title = "not_authenticated", 401, "Not authenticated"


class InvalidCredentials(LedgerbankError):
    code, status, title = "invalid_credentials", 401, "Invalid credentials"


class AccountLocked(LedgerbankError):
    code, status, title = "login_locked", 429, "Too many failed attempts"


class PinRequired(LedgerbankError):
    code, status, title = "pin_required", 403, "Transaction PIN required"


class InvalidPin(LedgerbankError):
    code, status, title = "invalid_pin", 403, "Invalid transaction PIN"


class PinLocked(LedgerbankError):
    code, status, title = "pin_locked", 429, "Too many wrong PINs"


class KycRequired(LedgerbankError):
    """The customer's identity is not verified yet: they may receive and deposit a little."""

    code, status, title = "kyc_required", 403, "Identity verification required"


class KycRejected(LedgerbankError):
    code, status, title = "kyc_rejected", 403, "Identity verification not approved"


class WrongPassword(LedgerbankError):
    """The current password given to confirm a sensitive change (setting the PIN) is wrong."""

    code, status, title = "wrong_password", 403, "Password does not match"


class Forbidden(LedgerbankError):
    code, status, title = "forbidden", 403, "Forbidden"


class NotFound(LedgerbankError):
    code, status, title = "not_found", 404, "Not found"


# conflicts
class Conflict(LedgerbankError):
    code, status, title = "conflict", 409, "Conflict"


class IdempotencyConflict(LedgerbankError):
    code, status, title = "idempotency_conflict", 409, "Idempotency key reused"


class UsernameTaken(LedgerbankError):
    code, status, title = "username_taken", 409, "Username taken"


# LedgerGPT
class NotUnderstood(LedgerbankError):
    code, status, title = "not_understood", 422, "Question not understood"


class UnsafeQuery(LedgerbankError):
    code, status, title = "unsafe_query", 422, "Unsafe query refused"


# infrastructure
class ServiceUnavailable(LedgerbankError):
    code, status, title = "unavailable", 503, "Service unavailable"


class QueryTimeout(LedgerbankError):
    code, status, title = "query_timeout", 422, "Query took too long"


class QueryFailed(LedgerbankError):
    code, status, title = "query_failed", 422, "Query failed"


# proof: signed audit checkpoints, LedgerGPT's size bounds, backups
class SigningKeyProblem(LedgerbankError):
    """No audit signing key is configured, or it is unusable or kept where it may not be."""

    code, status, title = "signing_key_problem", 503, "Audit signing key unavailable"


class SealedSecretUnreadable(LedgerbankError):
    """A stored secret (kit.sealed) sealed under a key no longer configured, or altered."""

    code, status, title = "sealed_secret_unreadable", 503, "A stored secret cannot be read"


class ResultTooLarge(LedgerbankError):
    code, status, title = "result_too_large", 422, "Result too large"


class BackupFailed(LedgerbankError):
    code, status, title = "backup_failed", 503, "Backup or restore failed"


# trust (issue 11): sign-in, the second factor, resets, rate limits
class SecondFactorRequired(LedgerbankError):
    """The password was right; the account also needs its TOTP code (or a recovery code)."""

    code, status, title = "second_factor_required", 401, "Second factor required"


class InvalidSecondFactor(LedgerbankError):
    code, status, title = "invalid_second_factor", 401, "Invalid second factor"


class SecondFactorLocked(LedgerbankError):
    code, status, title = "second_factor_locked", 429, "Too many wrong codes"


class SecondFactorEnrolmentRequired(LedgerbankError):
    """A staff token issued before enrolment: it can do nothing but enrol a second factor."""

    code, status, title = "enrolment_required", 403, "Second factor enrolment required"


class InvalidResetToken(LedgerbankError):
    code, status, title = "invalid_reset_token", 400, "Invalid or expired reset link"


class RateLimited(LedgerbankError):
    code, status, title = "rate_limited", 429, "Too many requests"


# scheduled payments and closing accounts (issue 14)
class InvalidSchedule(LedgerbankError):
    code, status, title = "invalid_schedule", 422, "Invalid schedule"


class BalanceNotZero(LedgerbankError):
    code, status, title = "balance_not_zero", 409, "The account still holds money"
