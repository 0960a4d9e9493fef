// The auditor's ledger view: the balance sheet and the ledger integrity check (GET /ledger/*,
// read from the reporting views), and the audit chain's status.

import { get } from "../api.js";
import { count, money } from "../format.js";
import { href } from "../router.js";
import { clear, errorBox, h, loading, table } from "../ui.js";
import { replicaTile } from "./replica.js";

export default async function render(ctx) {
  const { main } = ctx;
  const sheet = h("section", { class: "card stack" }, h("h2", {}, "Balance sheet"), loading());
  const integrity = h("section", { class: "card stack" }, h("h2", {}, "Ledger integrity"), loading());
  const chain = h("section", { class: "card stack" }, h("h2", {}, "Audit chain"), loading());
  main.append(ctx.heading("Ledger"), h("div", { class: "grid cols-2" }, integrity, chain), h("div", { class: "section" }, sheet), h("div", { class: "section" }, replicaTile()));

  const [sheetAnswer, integrityAnswer, chainReport] = await Promise.allSettled([
    get("/ledger/balance-sheet"),
    get("/ledger/integrity"),
    get("/audit/verify"),
  ]);
  if (!ctx.alive()) return;

  if (sheetAnswer.status === "fulfilled") {
    const { balanced, items } = sheetAnswer.value;
    clear(
      sheet,
      h("h2", {}, "Balance sheet"),
      h("p", { class: "muted" }, "Per currency: assets (cash the bank holds) = liabilities (what it owes its customers) + equity (fees earned, the FX position, less interest paid)."),
      h("div", { class: `alert ${balanced ? "ok" : "error"}`, role: "status" }, balanced ? "Assets equal liabilities plus equity in every currency." : "The books do NOT balance: see the difference column."),
      table({
        caption: "Balance sheet",
        rows: items,
        emptyText: "No money has moved yet.",
        columns: [
          { label: "Currency", render: (r) => r.currency },
          { label: "Assets", num: true, render: (r) => h("td", { class: "amount" }, money(r.assets, r.currency)) },
          { label: "Liabilities", num: true, render: (r) => h("td", { class: "amount" }, money(r.liabilities, r.currency)) },
          { label: "Equity", num: true, render: (r) => h("td", { class: "amount" }, money(r.equity, r.currency)) },
          { label: "Difference", num: true, render: (r) => h("td", { class: "amount" }, money(r.difference, r.currency)) },
          { label: "FX position", num: true, render: (r) => h("td", { class: "amount" }, money(r.fx_position ?? "0", r.currency)) },
        ],
      }),
    );
  } else clear(sheet, h("h2", {}, "Balance sheet"), errorBox(sheetAnswer.reason));

  if (integrityAnswer.status === "fulfilled") {
    const { ok: sound, violations } = integrityAnswer.value;
    clear(
      integrity,
      h("h2", {}, "Ledger integrity"),
      h(
        "div",
        { class: `alert ${sound ? "ok" : "error"}`, role: "status", dataset: { sound: String(sound) } },
        h("div", { class: "title" }, sound ? "The ledger is sound." : `${count(violations.length)} broken invariants found.`),
        h("div", {}, sound ? "Every transaction balances, every balance matches its entries." : "Each row below names a broken invariant."),
      ),
      sound
        ? null
        : table({
            caption: "Integrity violations",
            rows: violations,
            columns: [
              { label: "Check", render: (r) => r.check },
              { label: "Where", render: (r) => `${r.entity_type} #${r.entity_id}` },
              { label: "Difference (minor units)", num: true, render: (r) => h("td", { class: "amount" }, String(r.difference_minor)) },
              { label: "Meaning", render: (r) => r.meaning },
            ],
          }),
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
        h("div", { class: "title" }, report.ok ? `Intact: ${count(report.checked)} sealed records checked.` : report.first_broken_id != null ? `Broken at record #${report.first_broken_id}.` : `The ledger differs from its audit records (${count((report.findings || []).length + (report.checkpoint_problems || []).length)} findings).`),
        report.detail ? h("div", {}, report.detail) : null,
      ),
      h("a", { href: href("/audit") }, "Browse the audit log →"),
    );
  } else clear(chain, h("h2", {}, "Audit chain"), errorBox(chainReport.reason));
}
