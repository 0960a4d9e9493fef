// Human messages for every problem+json `code` the API answers (API.md, errors.py).

const MESSAGES = {
  // malformed input and broken business rules
  invalid_amount: "That amount is not valid: use a positive number with no more decimals than the currency allows.",
  unknown_currency: "That currency is not supported.",
  validation_error: "Some fields are not valid. Check them and try again.",
  malformed_request: "The request could not be read. Reload the page and try again.",
  insufficient_funds: "There is not enough money in the account for this.",
  account_frozen: "The account is frozen: no money can leave or enter it until it is unfrozen.",
  account_closed: "The account is closed.",
  currency_mismatch: "The accounts hold different currencies and no exchange rate between them is in force.",
  same_account: "Choose two different accounts.",
  same_currency: "Both accounts hold the same currency: use a transfer instead of an exchange.",
  invalid_rate: "That rate is not valid: use a positive decimal number with at most 10 decimals.",
  no_rate_in_force: "There is no exchange rate in force between these currencies right now.",
  unbalanced_posting: "The posting does not balance (debits must equal credits).",
  not_reversible: "This transaction cannot be reversed.",
  blocked_by_risk: "This payment could not be completed. Please contact us.",
  payment_declined: "This payment could not be completed and no money moved. Please contact us and quote the reference.",
  limit_exceeded: "This would pass your daily limit.",
  kyc_required: "Money can leave your accounts once we have verified your identity.",
  kyc_rejected: "Your identity check was not approved, so money cannot move. Please contact us.",
  import_rejected: "The import file was rejected; nothing was imported.",
  invalid_transition: "That change is not possible in the current state.",
  invalid_schedule: "That schedule is not possible: check the first date, how often and the end date.",
  balance_not_zero: "The account still holds money: move it out (or choose where it goes) before closing it.",
  webhook_url_refused: "That webhook address is not allowed: use a public https address the bank allows.",
  hold_not_active: "That hold has already been captured, voided or has expired.",
  capture_exceeds_hold: "That is more than the hold reserves.",
  // authentication and authorization
  not_authenticated: "Your session has ended. Please sign in again.",
  invalid_credentials: "Wrong username or password.",
  login_locked: "Too many failed sign-in attempts. Wait a while, then try again.",
  pin_required: "This payment needs your transaction PIN (set one in your profile first).",
  invalid_pin: "That PIN is not correct.",
  wrong_password: "That is not your current password.",
  pin_locked: "Too many wrong PINs. Wait a while, then try again.",
  forbidden: "Your role is not allowed to do this.",
  second_factor_required: "Enter the 6-digit code from your authenticator app.",
  invalid_second_factor: "That code is not right, or it was already used. Wait for the next code and try again.",
  second_factor_locked: "Too many wrong codes. Wait a while, then try again.",
  enrolment_required: "Set up two-step sign-in first.",
  invalid_reset_token: "This reset link is invalid, used or expired. Ask the bank for a new one.",
  not_found: "Not found (it may not exist, or it is not yours).",
  method_not_allowed: "That action is not available here.",
  // conflicts
  conflict: "That conflicts with the current state; reload and try again.",
  idempotency_conflict: "This request was already sent with different details. Start a new one.",
  username_taken: "That username is taken; choose another.",
  // LedgerGPT
  not_understood: "LedgerGPT did not understand the question. Try one of the suggestions.",
  unsafe_query: "LedgerGPT refused the query because it is not a safe, read-only question.",
  query_timeout: "The query took too long and was stopped. Narrow the question (a shorter period, one customer).",
  query_failed: "The query could not be run. Try rephrasing the question.",
  result_too_large: "The answer is too large. Ask for fewer rows or columns.",
  // limits and infrastructure
  rate_limited: "Too many requests. Wait a moment and try again.",
  payload_too_large: "The upload is too large.",
  unsupported_media_type: "That file type is not supported.",
  unavailable: "The service is temporarily unavailable. Try again shortly.",
  internal_error: "Something went wrong on our side. The error was logged; try again later.",
  http_error: "The request failed.",
  network_error: "The server cannot be reached. Check your connection and try again.",
  // proof
  signing_key_problem: "The audit signing key is not set up, so no checkpoint can be signed.",
  sealed_secret_unreadable: "A stored secret cannot be read with the keys the bank has configured. Contact the bank.",
  backup_failed: "The backup or restore failed.",
};

const BY_STATUS = {
  400: "The request could not be read.",
  401: MESSAGES.not_authenticated,
  403: MESSAGES.forbidden,
  404: MESSAGES.not_found,
  409: MESSAGES.conflict,
  413: MESSAGES.payload_too_large,
  415: MESSAGES.unsupported_media_type,
  422: MESSAGES.validation_error,
  429: MESSAGES.rate_limited,
  503: MESSAGES.unavailable,
};

export function messageFor(code, status) {
  if (code && MESSAGES[code]) return MESSAGES[code];
  if (status && BY_STATUS[status]) return BY_STATUS[status];
  if (status >= 500) return MESSAGES.internal_error;
  return "The request failed.";
}

// "body.amount" -> "amount": the field a validation error points at, in the user's words.
export function fieldOf(loc) {
  const parts = (loc || []).filter((part) => !["body", "query", "path", "header"].includes(part));
  return parts.join(".").replaceAll("_", " ");
}

// A second line some answers earn: PIN attempts left, when a lock ends, when to retry. Never the
// server's own detail, which is written for logs ("account 3 has 363.14 USD available").
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
export function noteFor(code, problem = {}) {
  if (code === "invalid_pin" && Number.isInteger(problem.attempts_left)) {
    const left = problem.attempts_left;
    if (left <= 1) return "Careful: one more wrong PIN locks payments from your accounts for a while.";
    return `You have ${left} attempts left before payments are locked for a while.`;
  }
  const until = problem.locked_until || problem.blocked_until;
  if (until && !Number.isNaN(new Date(until).getTime())) return `Locked until ${clock.format(new Date(until))}.`;
  if (Number.isInteger(problem.retry_after) && problem.retry_after > 0) {
    const minutes = Math.ceil(problem.retry_after / 60);
    return minutes > 1 ? `Try again in about ${minutes} minutes.` : "Try again in a minute.";
  }
  return null;
}

// The server's field messages in plain words: never a regular expression or a type name.
export function plainFieldMessage(message) {
  const text = String(message || "").replace(/^Value error,\s*/, "");
  if (/should match pattern|string_pattern_mismatch/i.test(text)) return "is not in the expected format";
  if (/^Field required$/i.test(text)) return "is required";
  if (/valid (integer|number|decimal)/i.test(text)) return "must be a number";
  if (/valid date/i.test(text)) return "must be a date";
  return text.replace(/`/g, "");
}

export function knownCode(code) {
  return Boolean(code && MESSAGES[code]);
}
