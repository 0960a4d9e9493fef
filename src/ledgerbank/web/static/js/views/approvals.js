// The four-eyes inbox: sensitive actions proposed by one person, decided by another.

import { get, post } from "../api.js";
import { dateTime, title } from "../format.js";
import { askReason, clear, errorBox, field, formValues, h, loading, okBox, statusBadge, table } from "../ui.js";

const STATUSES = ["pending", "approved", "rejected", "expired", "failed"];

export default async function render(ctx) {
  const { main, query, session } = ctx;
  const out = h("div", { "aria-live": "polite" });
  const results = h("div", { class: "section" }, loading());
  const form = h(
    "form",
    { class: "fields", "aria-label": "Filter approvals" },
    field({ label: "Status", name: "status", type: "select", value: query.status ?? "pending", options: [["", "Any"], ...STATUSES.map((s) => [s, title(s)])] }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Show")),
  );
  main.append(
    ctx.heading("Approvals"),
    h("p", { class: "muted" }, "Sensitive actions take effect only when a second person with the right role approves them. You cannot decide what you proposed."),
    form,
    out,
    results,
  );

  const decide = async (approval, verb) => {
    let note = null;
    if (verb === "reject") {
      note = await askReason({ heading: `Reject: ${approval.summary}`, confirm: "Reject", danger: true });
      if (!note) return;
    }
    try {
      const decided = await post(`/approvals/${approval.id}/${verb}`, note ? { note } : {});
      const shown = decided.shown_once;
      clear(
        out,
        decided.status === "failed"
          ? h("div", { class: "alert error", role: "alert" }, `Approved, but it could not be done: ${decided.result?.error?.detail || "see the audit trail"}.`)
          : okBox(
              `${title(decided.status)}: ${decided.summary}.`,
              shown?.reset_url
                ? h("div", { class: "stack" }, h("p", {}, "Give this link to the person concerned; it is shown only now and works once, until ", dateTime(shown.expires_at), ":"), h("code", { class: "mono reset-link" }, shown.reset_url))
                : null,
            ),
      );
      await load();
    } catch (error) {
      clear(out, errorBox(error));
    }
  };

  const load = async () => {
    clear(results, loading());
    let page;
    try {
      page = await get("/approvals", { ...formValues(form), limit: 100 });
    } catch (error) {
      if (ctx.alive()) clear(results, errorBox(error));
      return;
    }
    if (!ctx.alive()) return;
    clear(
      results,
      table({
        caption: "Approvals",
        rows: page.items,
        emptyText: "Nothing waits for a decision.",
        rowProps: (a) => ({ dataset: { approval: a.id } }),
        columns: [
          { label: "What", render: (a) => [h("strong", {}, a.summary), a.proposal_note ? h("div", { class: "muted" }, a.proposal_note) : null] },
          { label: "Proposed by", render: (a) => [a.proposed_by_username || `#${a.proposed_by}`, h("div", { class: "muted" }, dateTime(a.proposed_at))] },
          { label: "Status", render: (a) => [statusBadge(a.status), a.status === "pending" ? h("div", { class: "muted" }, `expires ${dateTime(a.expires_at)}`) : a.decided_by_username ? h("div", { class: "muted" }, `by ${a.decided_by_username}`) : null] },
          {
            label: "",
            render: (a) =>
              a.can_decide
                ? h("div", { class: "row" }, h("button", { type: "button", class: "btn small primary", onclick: () => decide(a, "approve") }, "Approve"), h("button", { type: "button", class: "btn small danger", onclick: () => decide(a, "reject") }, "Reject"))
                : a.status === "pending" && a.proposed_by === session.userId
                  ? h("button", { type: "button", class: "btn small", onclick: () => decide(a, "reject") }, "Withdraw")
                  : "",
          },
        ],
      }),
    );
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  await load();
}
