// History import (admin): upload a CSV of past transactions, try it as a dry run, then post it.

import { request } from "../api.js";
import { count } from "../format.js";
import { checkbox, clear, errorBox, h, nextId, table } from "../ui.js";

const COLUMNS = "external_id, timestamp, type, from_account, to_account, amount, currency, description";

export default async function render(ctx) {
  const { main } = ctx;
  const fileId = nextId("file");
  const out = h("div", { class: "section import-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack", "aria-label": "Import history" },
    h("div", { class: "field" }, h("label", { for: fileId }, "CSV file"), h("input", { id: fileId, name: "file", type: "file", accept: ".csv,text/csv", required: true, "aria-describedby": `${fileId}-hint` }), h("div", { class: "hint", id: `${fileId}-hint` }, `Columns: ${COLUMNS}. Accounts are named by account number; timestamps are kept. Each row must be later than the latest entry of each of its accounts (history is added after what is already booked); an earlier row is refused with its line number.`)),
    h("div", { class: "row" }, checkbox({ label: "Dry run (report what would be posted, post nothing)", name: "dry_run", checked: true }), checkbox({ label: "Partial (post the good rows even if some are bad)", name: "partial" })),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn primary" }, "Upload")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return;
    const data = new FormData();
    data.append("file", file, file.name);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    clear(out);
    try {
      const report = await request("POST", "/admin/import", {
        form: data,
        query: { dry_run: form.elements.dry_run.checked ? "true" : "", partial: form.elements.partial.checked ? "true" : "" },
      });
      clear(out, report.approval_id ? proposedView(report) : reportView(report));
    } catch (error) {
      // import_rejected carries the report: show which lines were refused and why.
      clear(out, errorBox(error), error.problem?.report ? rowErrors(error.problem.report.errors || []) : null);
    } finally {
      button.disabled = false;
    }
  });
  main.append(ctx.heading("Import history"), h("section", { class: "card" }, form), out);
}

// Four eyes: a file that would move money waits for a second administrator.
function proposedView(proposed) {
  const preview = proposed.preview || {};
  return h(
    "div",
    { class: "alert info stack", role: "status" },
    h("div", { class: "title" }, `Proposed: ${proposed.summary}. Nothing is posted until a second administrator approves it (Approvals).`),
    h("div", {}, `Dry run: ${count(preview.posted || 0)} of ${count(preview.rows || 0)} rows would be posted; ${count(preview.skipped_duplicates || 0)} already imported.`),
    rowErrors(preview.errors || []),
  );
}

function reportView(report) {
  const ok = !(report.errors || []).length;
  return h(
    "div",
    { class: `alert ${ok ? "ok" : "warn"} stack`, role: "status" },
    h("div", { class: "title" }, report.dry_run ? `Dry run of ${report.file_name}: ${count(report.rows)} rows read, nothing posted.` : `Imported ${report.file_name}: ${count(report.posted)} of ${count(report.rows)} rows posted.`),
    h("div", {}, `${count(report.skipped_duplicates)} already imported (skipped).`),
    rowErrors(report.errors || []),
  );
}

function rowErrors(errors) {
  if (!errors.length) return null;
  return table({ caption: "Rows refused", rows: errors, columns: [{ label: "Line", num: true, render: (e) => String(e.line) }, { label: "Problem", render: (e) => e.message }] });
}
