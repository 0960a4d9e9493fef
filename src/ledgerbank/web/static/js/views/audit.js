// The audit log browser: filters, pages, before/after of each record, and "verify chain".

import { get } from "../api.js";
import { count, dateTime, dayEnd, dayStart } from "../format.js";
import { setQuery } from "../router.js";
import { clear, errorBox, field, formValues, h, loading, table } from "../ui.js";
import { readableChange } from "./audit-diff.js";
import { namesOf } from "./staff-names.js";

const PAGE = 50;

export default async function render(ctx) {
  const { main, query } = ctx;
  const verifyOut = h("div", { "aria-live": "polite", class: "verify-result" });
  const verifyButton = h("button", { type: "button", class: "btn primary", dataset: { action: "verify" } }, "Verify chain");
  verifyButton.addEventListener("click", async () => {
    verifyButton.disabled = true;
    clear(verifyOut, loading("Checking every record's hash…"));
    try {
      const report = await get("/audit/verify");
      clear(
        verifyOut,
        h(
          "div",
          { class: `alert ${report.ok ? "ok" : "error"}`, role: report.ok ? "status" : "alert" },
          h("div", { class: "title" }, report.ok ? `The audit chain is intact: ${count(report.checked)} sealed records checked.` : report.first_broken_id != null ? `The audit chain is BROKEN at record #${report.first_broken_id}.` : "The audit trail and the ledger do not agree."),
          report.detail ? h("div", {}, report.detail) : null,
          ...(report.checkpoint_problems || []).map((problem) => h("div", {}, problem)),
          ...(report.findings || []).slice(0, 20).map((f) => h("div", {}, `${f.subject}: ${f.detail}`)),
          report.newest_checkpoint_position != null ? h("div", { class: "muted" }, `Signed checkpoints: ${count(report.checkpoints_checked)}; ${count(report.uncovered_records)} newest records are after the latest one.`) : null,
          report.unsealed ? h("div", { class: "muted" }, `${count(report.unsealed)} newest records are not sealed yet (sealing runs every second).`) : null,
        ),
      );
    } catch (error) {
      clear(verifyOut, errorBox(error));
    } finally {
      verifyButton.disabled = false;
    }
  });

  const form = h(
    "form",
    { class: "stack", role: "search", "aria-label": "Filter the audit log" },
    h(
      "div",
      { class: "fields" },
      field({ label: "Entity type", name: "entity_type", type: "select", value: query.entity_type, options: [["", "Any"], ["user", "User"], ["account", "Account"], ["transaction", "Transaction"], ["alert", "Alert"]] }),
      field({ label: "Entity id", name: "entity_id", value: query.entity_id, maxlength: 64 }),
      field({ label: "Actor (user id)", name: "actor_id", type: "number", min: 1, value: query.actor_id }),
      field({ label: "Action", name: "action", value: query.action, maxlength: 64, placeholder: "e.g. account.frozen" }),
      field({ label: "From", name: "from", type: "date", value: query.from }),
      field({ label: "To", name: "to", type: "date", value: query.to }),
    ),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn" }, "Apply filters")),
  );
  const results = h("div", { class: "section" }, loading());
  main.append(
    ctx.heading("Audit log"),
    h("section", { class: "card stack" }, h("div", { class: "spread" }, h("p", { class: "muted" }, "Every change is recorded with who did it, before and after, and chained by hash so an edit or deletion is detected."), verifyButton), verifyOut),
    h("section", { class: "card section" }, form),
    results,
  );

  let cursors = [null];
  const load = async () => {
    clear(results, loading());
    const values = formValues(form);
    let page;
    try {
      page = await get("/audit/logs", { ...values, from: dayStart(values.from), to: dayEnd(values.to), limit: PAGE, cursor: cursors.at(-1) });
    } catch (error) {
      if (ctx.alive()) clear(results, errorBox(error));
      return;
    }
    const name = await namesOf([...page.items.map((r) => r.actor_id), ...page.items.filter((r) => r.entity_type === "user" && /^\d+$/.test(r.entity_id || "")).map((r) => Number(r.entity_id))]);
    if (!ctx.alive()) return;
    clear(
      results,
      table({
        caption: "Audit records",
        rows: page.items,
        emptyText: "No audit records match.",
        columns: [
          { label: "#", render: (r) => String(r.id) },
          { label: "When", cls: "when", render: (r) => dateTime(r.created_at) },
          { label: "Actor", render: (r) => (r.actor_id ? name(r.actor_id) : "the system") },
          { label: "Action", render: (r) => h("span", { class: "mono" }, r.action) },
          { label: "Entity", render: (r) => (r.entity_type === "user" && /^\d+$/.test(r.entity_id || "") ? `user: ${name(Number(r.entity_id))}` : `${r.entity_type}${r.entity_id ? ` ${r.entity_id}` : ""}`) },
          { label: "Change", render: (r) => readableChange(r) },
          { label: "Sealed", render: (r) => (r.sealed === false ? "pending" : "yes") },
        ],
      }),
      h(
        "nav",
        { class: "pager", "aria-label": "Pages" },
        h("span", { class: "muted" }, `Page ${cursors.length}`),
        h("button", { type: "button", class: "btn small", disabled: cursors.length < 2, onclick: () => { cursors.pop(); load(); } }, "Previous"),
        h("button", { type: "button", class: "btn small", disabled: !page.next_cursor, onclick: () => { cursors.push(page.next_cursor); load(); } }, "Next"),
      ),
    );
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [null];
    setQuery(formValues(form));
    load();
  });
  await load();
}
