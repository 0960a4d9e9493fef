// The auditor's ledger view: the balance sheet and the ledger integrity check (both read from
// the reporting views through LedgerGPT's read-only gate), and the audit chain's status.

import { get, post } from "../api.js";
import { count, currencyDigits, money, toMinor } from "../format.js";
import { href } from "../router.js";
import { clear, errorBox, h, loading, table } from "../ui.js";

const BALANCE_SHEET = "show the balance sheet";
const INTEGRITY = "is the ledger sound";

function rowsOf(answer) {
  return answer.rows.map((row) => Object.fromEntries(answer.columns.map((name, i) => [name, row[i]])));
}

// LedgerGPT answers money as exact decimal strings (the views' *_minor columns converted).
const sheetMoney = (value, currency) => money(String(value ?? "0"), currency);
const isZero = (value, currency) => toMinor(String(value ?? "0"), currencyDigits(currency)) === 0n;

export default async function render(ctx) {
  const { main } = ctx;
  const sheet = h("section", { class: "card stack" }, h("h2", {}, "Balance sheet"), loading());
  const integrity = h("section", { class: "card stack" }, h("h2", {}, "Ledger integrity"), loading());
  const chain = h("section", { class: "card stack" }, h("h2", {}, "Audit chain"), loading());
  main.append(ctx.heading("Ledger"), h("div", { class: "grid cols-2" }, integrity, chain), h("div", { class: "section" }, sheet));

  const [sheetAnswer, integrityAnswer, chainReport] = await Promise.allSettled([
    post("/ledgergpt/ask", { question: BALANCE_SHEET, engine: "offline" }),
    post("/ledgergpt/ask", { question: INTEGRITY, engine: "offline" }),
    get("/audit/verify"),
  ]);
  if (!ctx.alive()) return;

  if (sheetAnswer.status === "fulfilled") {
    const rows = rowsOf(sheetAnswer.value);
    const balanced = rows.every((row) => isZero(row.difference_minor, row.currency));
    clear(
      sheet,
      h("h2", {}, "Balance sheet"),
      h("p", { class: "muted" }, "Per currency: assets (cash the bank holds) = liabilities (what it owes its customers) + equity (fees earned)."),
      h("div", { class: `alert ${balanced ? "ok" : "error"}`, role: "status" }, balanced ? "Assets equal liabilities plus equity in every currency." : "The books do NOT balance: see the difference column."),
      table({
        caption: "Balance sheet",
        rows,
        emptyText: "No money has moved yet.",
        columns: [
          { label: "Currency", render: (r) => r.currency },
          { label: "Assets", num: true, render: (r) => h("td", { class: "amount" }, sheetMoney(r.assets_minor, r.currency)) },
          { label: "Liabilities", num: true, render: (r) => h("td", { class: "amount" }, sheetMoney(r.liabilities_minor, r.currency)) },
          { label: "Equity", num: true, render: (r) => h("td", { class: "amount" }, sheetMoney(r.equity_minor, r.currency)) },
          { label: "Difference", num: true, render: (r) => h("td", { class: "amount" }, sheetMoney(r.difference_minor, r.currency)) },
        ],
      }),
      h("details", {}, h("summary", {}, "SQL"), h("pre", { class: "sql" }, sheetAnswer.value.sql)),
    );
  } else clear(sheet, h("h2", {}, "Balance sheet"), errorBox(sheetAnswer.reason));

  if (integrityAnswer.status === "fulfilled") {
    const answer = integrityAnswer.value;
    const sound = answer.row_count === 0;
    clear(
      integrity,
      h("h2", {}, "Ledger integrity"),
      h(
        "div",
        { class: `alert ${sound ? "ok" : "error"}`, role: "status", dataset: { sound: String(sound) } },
        h("div", { class: "title" }, sound ? "The ledger is sound." : `${count(answer.row_count)} broken invariants found.`),
        h("div", {}, sound ? "Every transaction balances, every balance matches its entries." : "Each row below names a broken invariant."),
      ),
      sound ? null : table({ caption: "Integrity violations", rows: rowsOf(answer), columns: answer.columns.map((name) => ({ label: name, render: (r) => String(r[name] ?? "—") })) }),
    );
  } else clear(integrity, h("h2", {}, "Ledger integrity"), errorBox(integrityAnswer.reason));

  if (chainReport.status === "fulfilled") {
    const report = chainReport.value;
    clear(
      chain,
      h("h2", {}, "Audit chain"),
      h(
        "div",
        { class: `alert ${report.ok ? "ok" : "error"}`, role: "status" },
        h("div", { class: "title" }, report.ok ? `Intact: ${count(report.checked)} sealed records checked.` : `Broken at record #${report.first_broken_id}.`),
        report.detail ? h("div", {}, report.detail) : null,
      ),
      h("a", { href: href("/audit") }, "Browse the audit log →"),
    );
  } else clear(chain, h("h2", {}, "Audit chain"), errorBox(chainReport.reason));
}
