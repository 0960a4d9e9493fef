// The LedgerGPT console: a question in plain English, the SQL it became, the result table,
// example questions, and suggestions when a question is not understood.

import { get, post } from "../api.js";
import { count, dateTime, title } from "../format.js";
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
  );
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
      h("h2", {}, `${count(answer.row_count)} row${answer.row_count === 1 ? "" : "s"}${answer.truncated ? " (cut at the row limit)" : ""}`),
      table({
        caption: "Result",
        rows,
        emptyText: "The query ran and found no rows.",
        columns: names.map((name) => ({
          label: title(name),
          num: rows.some((row) => typeof row[name] === "number" || /^-?\d+(\.\d+)?$/.test(String(row[name] ?? ""))),
          render: (row) => cell(name, row[name]),
        })),
      }),
    ),
  );
}

function cell(name, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) return dateTime(value);
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
