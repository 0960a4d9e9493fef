// The suspicious-activity report (SAR) of an AML alert: the reports filed from it, and a form
// with the activity type and the officer's narrative. Kept with the case; never shown to the
// customer.

import { get, post } from "../api.js";
import { dateTime, title } from "../format.js";
import { clear, errorBox, field, formValues, h, okBox, submitting } from "../ui.js";

const TYPES = ["structuring", "money_mule", "fraud", "unusual_cash", "rapid_movement", "sanctions", "other"];

export async function sarCard(alert, after) {
  const card = h("section", { class: "card section stack", "aria-label": "Suspicious-activity reports" }, h("h2", {}, "Suspicious-activity report"));
  let filed = [];
  try {
    filed = await get(`/compliance/alerts/${alert.id}/reports`);
  } catch (error) {
    card.append(errorBox(error));
  }
  for (const report of filed) {
    card.append(
      h("article", { class: "sar" },
        h("div", { class: "spread" }, h("strong", {}, `SAR ${report.id} · ${title(report.activity_type)}`), h("span", { class: "muted" }, `${report.filed_by_name || "a former user"}, ${dateTime(report.created_at)}`)),
        h("p", { class: "narrative" }, report.narrative),
      ),
    );
  }
  if (alert.status === "closed") {
    if (!filed.length) card.append(h("p", { class: "muted" }, "No report was filed before the alert was closed."));
    return card;
  }
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack", "aria-label": "File a suspicious-activity report" },
    h("p", { class: "muted" }, "Filing moves the alert to Reported. The report stays with the case and the bank: the customer is never told (tipping off)."),
    field({ label: "Activity", name: "activity_type", type: "select", required: true, options: [["", "Choose the activity"], ...TYPES.map((t) => [t, title(t)])] }),
    field({ label: "Narrative", name: "narrative", type: "textarea", required: true, minlength: 20, maxlength: 20000, rows: 6, hint: "Who, what, when, where, and why it is suspicious (at least 20 characters)." }),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn primary" }, filed.length ? "File another report" : "File report")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const report = await submitting(form, out, () => post(`/compliance/alerts/${alert.id}/reports`, formValues(form)));
    if (report) {
      clear(out, okBox(`SAR ${report.id} filed.`));
      after();
    }
  });
  card.append(form, out);
  return card;
}
