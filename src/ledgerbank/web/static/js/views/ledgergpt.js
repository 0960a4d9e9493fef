// The LedgerGPT console: a question in plain English, the SQL it became, the result table,
// example questions, and suggestions when a question is not understood.

import { get, post } from "../api.js";
import { count, dateTime, money, title } from "../format.js";
import { clear, errorBox, field, formValues, h, loading, table } from "../ui.js";

export default async function render(ctx) {
  const { main } = ctx;
  const out = h("div", { class: "stack section ledgergpt-answer", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack", "aria-label": "Ask LedgerGPT" },
    field({ label: "Your question", name: "question", type: "textarea", required: true, maxlength: 500, placeholder: "e.g. which accounts are frozen", rows: 2 }),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn primary" }, "Ask")),
  );
  const examplesBox = h("div", { class: "row examples", "aria-label": "Example questions" });
  const ask = async (question) => {
    form.elements.question.value = question;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    clear(out, loading("Thinking…"));
    try {
      const answer = await post("/ledgergpt/ask", { question });
      if (ctx.alive()) clear(out, answerView(answer));
    } catch (error) {
      if (ctx.alive()) clear(out, failure(error, ask));
    } finally {
      button.disabled = false;
      loadHistory();
    }
  };
  const historyBox = h("div", { class: "row wrap" });
  const loadHistory = async () => {
    try {
      const { items } = await get("/ledgergpt/history");
      if (!ctx.alive()) return;
      const seen = [...new Map(items.map((item) => [item.question, item])).values()].slice(0, 15);
      clear(historyBox, seen.length ? seen.map((item) => h("button", { type: "button", class: "btn small", title: `${dateTime(item.asked_at)} · ${title(item.decision)}`, onclick: () => ask(item.question) }, item.question)) : h("p", { class: "muted" }, "Your questions will be listed here."));
    } catch (error) {
      clear(historyBox, errorBox(error));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { question } = formValues(form);
    if (question) ask(question);
  });
  form.elements.question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  main.append(
    ctx.heading("LedgerGPT"),
    h(
      "section",
      { class: "card stack" },
      h("p", { class: "muted" }, "Ask about the ledger in plain English. Every question becomes one read-only SQL query over the reporting views your role may read, checked by a safety gate before it runs."),
      form,
      h("div", {}, h("h2", {}, "Try"), examplesBox),
    ),
    out,
    h("section", { class: "card section stack", "aria-label": "Your questions" }, h("h2", {}, "Your questions"), historyBox),
  );
  loadHistory();
  const { examples } = await get("/ledgergpt/examples");
  if (!ctx.alive()) return;
  clear(examplesBox, examples.map((question) => h("button", { type: "button", class: "btn small", onclick: () => ask(question) }, question)));
}

function answerView(answer) {
  const columns = answer.columns || [];
  const names = columns.map((column) => (typeof column === "string" ? column : column.name));
  const rows = (answer.rows || []).map((row) => (Array.isArray(row) ? Object.fromEntries(names.map((name, i) => [name, row[i]])) : row));
  return h(
    "div",
    { class: "stack" },
    h(
      "section",
      { class: "card stack" },
      h("div", { class: "spread" }, h("h2", {}, answer.question), h("span", { class: "badge info" }, `${answer.engine} engine`)),
      answer.explanation ? h("p", {}, answer.explanation) : null,
      h("details", { open: true }, h("summary", {}, "SQL"), h("pre", { class: "sql", "aria-label": "Generated SQL" }, answer.sql)),
      Object.keys(answer.parameters || {}).length
        ? h("dl", { class: "facts", "aria-label": "Parameters" }, Object.entries(answer.parameters).map(([name, value]) => [h("dt", { class: "mono" }, `:${name}`), h("dd", { class: "mono" }, JSON.stringify(value))]))
        : null,
    ),
    h(
      "section",
      { class: "card stack" },
      h(
        "div",
        { class: "spread" },
        h("h2", {}, `${count(answer.row_count)} row${answer.row_count === 1 ? "" : "s"}${answer.truncated ? " (cut at the row limit)" : ""}`),
        rows.length ? h("button", { type: "button", class: "btn small", onclick: () => downloadCsv(answer.question, names, rows) }, "Download CSV") : null,
      ),
      table({
        caption: "Result",
        rows,
        emptyText: "The query ran and found no rows.",
        columns: names.map((name) => {
          const kind = kindOf(name, rows);
          return { label: title(name), num: kind === "number" || kind === "money", cls: kind === "text" ? "text" : undefined, render: (row) => cell(name, row[name], kind, row) };
        }),
      }),
    ),
  );
}

const MONEY = /(amount|balance|total|sum|volume|avg|average|min|max)/i;
const TEXT = /(account_number|number|iban|name|username|description|reference|_id$|^id$)/i;

// How a column reads: money (in its row's currency), a number, or text (account numbers and
// ids stay left-aligned, as written).
function kindOf(name, rows) {
  if (TEXT.test(name) && !MONEY.test(name)) return "text";
  const numeric = rows.length && rows.every((row) => row[name] === null || row[name] === undefined || typeof row[name] === "number" || /^-?\d+(\.\d+)?$/.test(String(row[name])));
  if (!numeric) return "text";
  return MONEY.test(name) && rows.some((row) => row.currency) ? "money" : "number";
}

function grouped(value) {
  const [whole, fraction] = String(value).split(".");
  const sign = whole.startsWith("-") ? "-" : "";
  const digits = whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${digits}${fraction !== undefined ? `.${fraction}` : ""}`;
}

function downloadCsv(question, names, rows) {
  const quote = (value) => {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\n\r]/.test(text) || /^[=+\-@]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [names.map(quote).join(","), ...rows.map((row) => names.map((name) => quote(row[name])).join(","))];
  const blob = new Blob([`${lines.join("\r\n")}\r\n`], { type: "text/csv" });
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: `ledgergpt-${question.replace(/[^a-z0-9]+/gi, "-").slice(0, 40).replace(/^-|-$/g, "") || "answer"}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function cell(name, value, kind, row) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) return dateTime(value);
  if (kind === "money") return h("td", { class: "amount" }, money(String(value), row.currency));
  if (kind === "number") return grouped(value);
  return String(value);
}

function failure(error, ask) {
  const box = errorBox(error);
  const suggestions = error.problem?.suggestions || [];
  if (suggestions.length) {
    box.append(
      h("p", {}, "Questions LedgerGPT can answer:"),
      h("div", { class: "row" }, suggestions.map((suggestion) => h("button", { type: "button", class: "btn small", onclick: () => ask(suggestion) }, suggestion))),
    );
  }
  return box;
}
