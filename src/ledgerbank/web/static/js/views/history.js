// Transaction history: filters (type, status, amounts, dates, text), sortable columns, pages,
// CSV export of the filtered list. Customers see their own; staff see every transaction.

import { download, get } from "../api.js";
import { dateTime, dayEnd, dayStart, title } from "../format.js";
import { href, setQuery } from "../router.js";
import { amountCell, amountField, clear, errorBox, field, formValues, h, loading, statusBadge, table, toast, verdictBadge } from "../ui.js";
import { isStaff } from "../nav.js";
import { accountLabel, detailsCell, direction } from "./parts.js";

const TYPES = ["deposit", "withdrawal", "transfer", "fee", "journal", "reversal"];
const STATUSES = ["posted", "blocked", "reversed"];
const PAGE = 25;

export default async function render(ctx) {
  const { main, query } = ctx;
  const staff = isStaff(ctx.role);
  const accounts = staff ? [] : (await get("/accounts/")).items;
  if (!ctx.alive()) return;
  const byId = new Map(accounts.map((account) => [account.id, account]));
  const ownIds = new Set(accounts.map((account) => account.id));

  const form = h(
    "form",
    { class: "stack", role: "search", "aria-label": "Filter transactions" },
    h(
      "div",
      { class: "fields" },
      staff
        ? field({ label: "Account id", name: "account_id", type: "number", min: 1, value: query.account_id })
        : field({ label: "Account", name: "account_id", type: "select", value: query.account_id, options: [["", "All accounts"], ...accounts.map((a) => [a.id, accountLabel(a)])] }),
      field({ label: "Type", name: "type", type: "select", value: query.type, options: [["", "Any type"], ...TYPES.map((t) => [t, title(t)])] }),
      field({ label: "Status", name: "status", type: "select", value: query.status, options: [["", "Any status"], ...STATUSES.map((s) => [s, title(s)])] }),
      amountField({ label: "Min amount", name: "min_amount", value: query.min_amount }),
      amountField({ label: "Max amount", name: "max_amount", value: query.max_amount }),
      field({ label: "From", name: "from", type: "date", value: query.from }),
      field({ label: "To", name: "to", type: "date", value: query.to }),
      field({ label: "Search", name: "q", type: "search", value: query.q, placeholder: staff ? "name, description or id" : "payee, description or id" }),
    ),
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit", class: "btn primary" }, "Apply filters"),
      h("button", { type: "reset", class: "btn" }, "Clear"),
      h("button", { type: "button", class: "btn", dataset: { action: "export" }, onclick: () => exportCsv() }, "Export CSV"),
    ),
  );
  const out = h("div", { "aria-live": "polite" });
  const results = h("div", { class: "section" }, loading());
  main.append(ctx.heading(staff ? "All transactions" : "History"), h("section", { class: "card" }, form), out, results);

  let sort = query.sort || "-created_at";
  let cursors = [null];

  const filters = () => {
    const values = formValues(form);
    return { ...values, from: dayStart(values.from), to: dayEnd(values.to), sort };
  };
  const remember = () => {
    const values = formValues(form);
    setQuery({ ...values, sort: sort === "-created_at" ? "" : sort });
  };

  const load = async () => {
    clear(results, loading());
    clear(out);
    let page;
    try {
      page = await get("/transactions/history", { ...filters(), limit: PAGE, cursor: cursors.at(-1) });
    } catch (error) {
      if (ctx.alive()) clear(results, errorBox(error));
      return;
    }
    if (!ctx.alive()) return;
    const chosen = formValues(form);
    const filtered = Object.values(chosen).some((value) => value !== "");
    const running = !staff && chosen.account_id !== "";
    clear(
      results,
      table({
        caption: "Transactions",
        rows: page.items,
        emptyText: filtered ? "No transactions match these filters." : "No transactions yet.",
        sort,
        onSort: (next) => {
          sort = next;
          cursors = [null];
          remember();
          load();
        },
        columns: [
          { label: "Date", cls: "when", sort: "created_at", render: (tx) => dateTime(tx.created_at) },
          { label: "ID", sort: "id", render: (tx) => h("a", { href: href(`/transactions/${tx.id}`) }, `#${tx.id}`) },
          { label: "Type", cls: "wide-only", render: (tx) => title(tx.type) },
          { label: staff ? "Parties and description" : "Payee or payer", render: (tx) => detailsCell(tx, byId) },
          { label: "Status", cls: "wide-only", render: (tx) => statusBadge(tx.status) },
          page.items.some((tx) => tx.risk) ? { label: "Risk", cls: "wide-only", render: (tx) => (tx.risk ? verdictBadge(tx.risk.verdict) : "—") } : null,
          {
            label: "Amount",
            num: true,
            sort: "amount",
            render: (tx) => {
              // One account chosen: its own side, signed (an exchange out of it, or into it).
              const way = direction(tx, running ? new Set([Number(chosen.account_id)]) : ownIds);
              if (way === "out") return amountCell(`-${tx.amount}`, tx.currency, { signed: true });
              if (way === "in") return amountCell(tx.amount, tx.currency, { signed: true });
              return amountCell(tx.amount, tx.currency);
            },
          },
          running ? { label: "Balance", num: true, cls: "balance-after", render: (tx) => (tx.balance_after === null || tx.balance_after === undefined ? h("td", { class: "num muted balance-after" }, "—") : Object.assign(amountCell(tx.balance_after, tx.currency), { className: "amount num balance-after" })) } : null,
        ],
      }),
      !staff && !running && page.items.length ? h("p", { class: "muted hint" }, "Choose one account to see its running balance.") : null,
      h(
        "nav",
        { class: "pager", "aria-label": "Pages" },
        h("span", { class: "muted" }, `Page ${cursors.length}`),
        h("button", { type: "button", class: "btn small", disabled: cursors.length < 2, onclick: () => { cursors.pop(); load(); } }, "Previous"),
        h("button", { type: "button", class: "btn small", disabled: !page.next_cursor, onclick: () => { cursors.push(page.next_cursor); load(); } }, "Next"),
      ),
    );
  };

  const exportCsv = async () => {
    try {
      const file = await download("GET", "/transactions/history", { query: { ...filters(), format: "csv" }, filename: "transactions.csv" });
      toast(`Exported ${file.name}.`, "ok");
    } catch (error) {
      clear(out, errorBox(error));
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [null];
    remember();
    load();
  });
  form.addEventListener("reset", () => {
    setTimeout(() => {
      for (const element of form.elements) if (element.name) element.value = "";
      cursors = [null];
      remember();
      load();
    });
  });
  await load();
}
