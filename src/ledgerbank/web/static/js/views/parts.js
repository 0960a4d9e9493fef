// Pieces several views share: transaction tables, risk verdicts, account pickers.

import { dateTime, money, percent, title } from "../format.js";
import { amountCell, badge, h, statusBadge, table, verdictBadge } from "../ui.js";
import { href } from "../router.js";

// The signed amount of a transaction from the point of view of the given accounts.
export function direction(tx, ownIds) {
  const fromOwn = ownIds.has(tx.from_account_id);
  const toOwn = ownIds.has(tx.to_account_id);
  if (fromOwn && toOwn) return "internal";
  if (toOwn) return "in";
  if (fromOwn) return "out";
  return "";
}

export function accountLabel(account) {
  if (!account) return "—";
  return `${title(account.account_type)} ·${String(account.account_number).slice(-4)}`;
}

// One side of a transaction in words: the name as the bank holds it and a masked number.
export function partyText(party, fallback = "Cash") {
  return party ? `${party.name} ${party.account_number}`.trim() : fallback;
}

// The other side of a transaction, from the reader's point of view; never an internal id.
export function counterparty(tx, byId) {
  const way = direction(tx, new Set(byId.keys()));
  if (way === "out") return tx.type === "withdrawal" ? "Cash withdrawal" : `To ${partyText(tx.to_party, "another account")}`;
  if (way === "in") return tx.type === "deposit" ? "Cash deposit" : `From ${partyText(tx.from_party, "another account")}`;
  return `${partyText(tx.from_party)} → ${partyText(tx.to_party)}`;
}

// Who and what: the counterparty, and the description under it when there is one.
export function detailsCell(tx, byId) {
  return h("span", { class: "tx-details" }, h("span", { class: "who" }, counterparty(tx, byId)), tx.description ? h("span", { class: "muted what" }, tx.description) : null);
}

// A compact activity table; with the customer's accounts, amounts are signed in or out.
export function activityTable(items, accounts = [], { empty = "No transactions.", staff = false } = {}) {
  const byId = new Map(accounts.map((account) => [account.id, account]));
  const ownIds = new Set(staff ? [] : accounts.map((account) => account.id));
  return table({
    caption: "Recent activity",
    emptyText: empty,
    rows: items,
    columns: [
      { label: "When", cls: "when", render: (tx) => dateTime(tx.created_at) },
      { label: "Type", cls: "wide-only", render: (tx) => title(tx.type) },
      { label: "Details", render: (tx) => detailsCell(tx, byId) },
      { label: "Status", cls: "wide-only", render: (tx) => statusBadge(tx.status) },
      items.some((tx) => tx.risk) ? { label: "Risk", cls: "wide-only", render: (tx) => (tx.risk ? verdictBadge(tx.risk.verdict) : "—") } : null,
      {
        label: "Amount",
        num: true,
        render: (tx) => {
          const way = direction(tx, ownIds);
          if (way === "out") return amountCell(`-${tx.amount}`, tx.currency, { signed: true });
          if (way === "in") return amountCell(tx.amount, tx.currency, { signed: true });
          return amountCell(tx.amount, tx.currency);
        },
      },
      { label: "", render: (tx) => h("a", { href: href(`/transactions/${tx.id}`), "aria-label": `Transaction ${tx.id} details` }, "Details") },
    ],
  });
}

// A risk reason in words: a rule that fired ({kind: "rule", rule, detail, score}) or the
// anomaly model's view ({kind: "model", percentile, features: [{feature, value, typical, direction}]}).
function reasonItem(reason) {
  if (typeof reason === "string") return h("li", {}, reason);
  if (reason && reason.kind === "rule") {
    return h("li", {}, h("strong", {}, title(reason.rule)), `: ${reason.detail || "fired"}`, reason.score !== undefined ? h("span", { class: "muted" }, ` (adds ${percent(reason.score)})`) : null);
  }
  if (reason && reason.kind === "model") {
    const rarer = percent(Number(reason.percentile ?? 1), 1);
    const features = (reason.features || []).map((f) => `${title(f.feature)} ${f.direction === "low" ? "unusually low" : "unusually high"} (${Number(f.value).toFixed(2)}, typically ${Number(f.typical).toFixed(2)})`);
    return h("li", {}, h("strong", {}, "Anomaly model"), `: rarer than ${rarer} of this bank's history`, features.length ? h("ul", {}, features.map((text) => h("li", {}, text))) : null);
  }
  return h("li", {}, reason?.detail || reason?.message || JSON.stringify(reason));
}

export function reasonList(reasons) {
  if (!reasons || !reasons.length) return h("p", { class: "muted" }, "No risk rule fired and nothing looked unusual.");
  return h("ul", { class: "reasons" }, reasons.map(reasonItem));
}

// The risk verdict of a transaction, with its score and why.
export function riskPanel(risk) {
  if (!risk) return h("p", { class: "muted" }, "No risk score recorded for this transaction.");
  const kind = { SAFE: "ok", SUSPICIOUS: "warn", CRITICAL: "danger" }[risk.verdict] || "";
  const colour = { ok: "var(--ok)", warn: "var(--warn)", danger: "var(--danger)" }[kind] || "var(--accent)";
  return h(
    "div",
    { class: "stack risk-panel" },
    h("div", { class: "row" }, h("strong", {}, "Risk verdict"), verdictBadge(risk.verdict), h("span", { class: "muted" }, `score ${percent(risk.score, 1)}`), risk.model_version ? h("span", { class: "muted" }, `model ${risk.model_version}`) : null),
    h("div", { class: "verdict-bar", role: "img", "aria-label": `risk score ${percent(risk.score, 1)}` }, h("span", { style: `width:${Math.round(Number(risk.score) * 100)}%;background:${colour}` })),
    reasonList(risk.reasons),
  );
}

export function accountOptions(accounts, { placeholder = "Choose an account", onlyActive = false } = {}) {
  const usable = onlyActive ? accounts.filter((account) => account.status === "active") : accounts;
  return [["", placeholder], ...usable.map((account) => [account.id, `${accountLabel(account)} — ${money(account.balance, account.currency)}${account.status !== "active" ? ` (${account.status})` : ""}`])];
}

export function typeBadge(type) {
  return badge(type, "info");
}
