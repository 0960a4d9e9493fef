// Formatting: exact money from decimal strings (BigInt arithmetic, never floats), local times.

const moneyFormats = new Map();

function moneyFormat(currency) {
  if (!moneyFormats.has(currency)) {
    let format;
    try {
      format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    } catch {
      format = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2 });
    }
    moneyFormats.set(currency, format);
  }
  return moneyFormats.get(currency);
}

export function currencyDigits(currency) {
  return moneyFormat(currency || "USD").resolvedOptions().maximumFractionDigits ?? 2;
}

// "1250.5" -> "$1,250.50": Intl formats the decimal string itself, so no float is involved.
export function money(amount, currency = "USD") {
  if (amount === null || amount === undefined || amount === "") return "—";
  return moneyFormat(currency).format(String(amount));
}

export function signedMoney(amount, currency) {
  const text = String(amount);
  return text.startsWith("-") || text === "0" ? money(text, currency) : `+${money(text, currency)}`;
}

// Decimal string -> integer minor units as a BigInt.
export function toMinor(amount, digits) {
  const text = String(amount).trim();
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace(/^[-+]/, "").split(".");
  const padded = (fraction + "0".repeat(digits)).slice(0, digits);
  const minor = BigInt(whole || "0") * 10n ** BigInt(digits) + BigInt(padded || "0");
  return negative ? -minor : minor;
}

export function fromMinor(minor, digits) {
  const negative = minor < 0n;
  const text = (negative ? -minor : minor).toString().padStart(digits + 1, "0");
  const whole = digits ? text.slice(0, -digits) : text;
  const fraction = digits ? `.${text.slice(-digits)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

// Sums decimal-string amounts per currency: [{amount, currency}] -> {USD: "12.30", ...}.
export function totalsByCurrency(items, field = "balance") {
  const sums = new Map();
  for (const item of items) {
    const currency = item.currency;
    const digits = currencyDigits(currency);
    sums.set(currency, (sums.get(currency) || 0n) + toMinor(item[field], digits));
  }
  const totals = {};
  for (const [currency, minor] of sums) totals[currency] = fromMinor(minor, currencyDigits(currency));
  return totals;
}

export function isNegative(amount) {
  return String(amount).trim().startsWith("-");
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const monthFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", timeZone: "UTC" });

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function dateTime(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? String(iso) : dateTimeFormat.format(moment);
}

export function date(iso) {
  if (!iso) return "—";
  // A bare date ("1990-05-01") is a calendar day, not a moment: show it as written.
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
    const [y, m, d] = iso.split("-").map(Number);
    return dateFormat.format(new Date(y, m - 1, d));
  }
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? String(iso) : dateFormat.format(moment);
}

// "2024-05" or "2024-05-01..." -> "May 2024".
export function month(value) {
  if (!value) return "—";
  const [y, m] = String(value).split("-").map(Number);
  if (!y || !m) return String(value);
  return monthFormat.format(new Date(Date.UTC(y, m - 1, 1)));
}

// A local calendar day (from an <input type="date">) as the ISO moment its start or end is.
export function dayStart(day) {
  return day ? new Date(`${day}T00:00:00`).toISOString() : "";
}

export function dayEnd(day) {
  return day ? new Date(`${day}T23:59:59.999`).toISOString() : "";
}

export function startOfMonth(moment = new Date()) {
  return new Date(moment.getFullYear(), moment.getMonth(), 1);
}

export function isoDay(moment) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}`;
}

export function percent(value, digits = 0) {
  if (value === null || value === undefined || value === "") return "—";
  return new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: digits }).format(Number(value));
}

export function count(value) {
  if (value === null || value === undefined || value === "") return "—";
  return new Intl.NumberFormat().format(Number(value));
}

export function title(word) {
  const text = String(word ?? "").replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
