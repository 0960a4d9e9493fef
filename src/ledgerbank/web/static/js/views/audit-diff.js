// An audit record's change in words: each field that changed, before → after, with amounts in
// minor units shown as money in the record's currency (the raw JSON stays one click away).

import { currencyDigits, dateTime, fromMinor, money, title } from "../format.js";
import { h } from "../ui.js";

const MONEY_KEYS = /(^|_)(amount|balance|total|limit|overdraft_limit|fee)$/;

function shown(key, value, currency) {
  if (value === null || value === undefined || value === "") return "—";
  if (currency && MONEY_KEYS.test(key)) {
    if (Number.isInteger(value)) return money(fromMinor(BigInt(value), currencyDigits(currency)), currency);
    if (/^-?\d+(\.\d+)?$/.test(String(value))) return money(String(value), currency);
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) return dateTime(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function asObject(value) {
  return value && typeof value === "object" && !Array.isArray(value) ? value : value === null || value === undefined ? {} : { value };
}

export function readableChange(record) {
  if (record.before === null && record.after === null) return "—";
  const before = asObject(record.before);
  const after = asObject(record.after);
  const currency = after.currency || before.currency;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = keys.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  const rows = (record.before === null ? keys : changed).map((key) => {
    const was = key in before && record.before !== null ? h("del", {}, shown(key, before[key], currency)) : null;
    const now = key in after ? h("ins", {}, shown(key, after[key], currency)) : h("span", { class: "muted" }, "removed");
    return [h("dt", {}, title(key)), h("dd", {}, was, was ? " → " : null, now)];
  });
  return h(
    "details",
    {},
    h("summary", {}, rows.length ? `${rows.length} field${rows.length === 1 ? "" : "s"}${record.before === null ? "" : " changed"}` : "no field changed"),
    rows.length ? h("dl", { class: "diff" }, rows) : null,
    h("details", { class: "raw" }, h("summary", {}, "Raw record"), h("pre", { class: "sql" }, JSON.stringify({ before: record.before, after: record.after }, null, 2))),
  );
}
