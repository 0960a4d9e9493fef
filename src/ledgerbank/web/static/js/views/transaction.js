// One transaction: its details, entries and risk score; staff may flag it, an admin reverse it.

import { get, move, post } from "../api.js";
import { dateTime, money, title } from "../format.js";
import { href, navigate } from "../router.js";
import { amountCell, askReason, clear, errorBox, h, okBox, statusBadge, table } from "../ui.js";
import { partyText, riskPanel } from "./parts.js";
import { unrecognisedButton } from "./unrecognised.js";
import { isStaff } from "../nav.js";
import { namesOf } from "./staff-names.js";

const FLAGGERS = ["fraud_analyst", "compliance_officer", "admin"];

export default async function render(ctx) {
  const { main, params } = ctx;
  const tx = await get(`/transactions/${params.id}`);
  const flagger = isStaff(ctx.role) && tx.flags?.length ? await namesOf(tx.flags.map((f) => f.flagged_by)) : () => "the bank";
  if (!ctx.alive()) return;
  const out = h("div", { "aria-live": "polite" });
  const actions = h("div", { class: "row" });
  if (FLAGGERS.includes(ctx.role)) {
    actions.append(
      h("button", {
        type: "button", class: "btn", dataset: { action: "flag" },
        onclick: async () => {
          const reason = await askReason({ heading: `Flag transaction #${tx.id}`, confirm: "Flag" });
          if (!reason) return;
          try {
            await post(`/transactions/${tx.id}/flag`, { reason });
            clear(out, okBox(`Transaction #${tx.id} flagged.`));
            navigate(`/transactions/${tx.id}`, {}, { replace: true });
          } catch (error) {
            clear(out, errorBox(error));
          }
        },
      }, "Flag for review"),
    );
  }
  if (ctx.role === "admin" && tx.status === "posted" && tx.type !== "reversal") {
    actions.append(
      h("button", {
        type: "button", class: "btn danger", dataset: { action: "reverse" },
        onclick: async () => {
          const reason = await askReason({ heading: `Reverse transaction #${tx.id}`, confirm: "Post the reversal", danger: true });
          if (!reason) return;
          try {
            const reversal = await move(`/transactions/${tx.id}/reverse`, { reason });
            clear(out, okBox(`Reversed by transaction #${reversal.id}.`));
          } catch (error) {
            clear(out, errorBox(error));
          }
        },
      }, "Reverse"),
    );
  }
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Type"), h("dd", {}, title(tx.type)),
    h("dt", {}, "Status"), h("dd", {}, statusBadge(tx.status)),
    h("dt", {}, "Amount"), h("dd", { class: "amount" }, money(tx.amount, tx.currency)),
    h("dt", {}, "From"), h("dd", {}, partyText(tx.from_party)),
    h("dt", {}, "To"), h("dd", {}, partyText(tx.to_party)),
    h("dt", {}, "Description"), h("dd", {}, tx.description || "—"),
    h("dt", {}, "Created"), h("dd", {}, dateTime(tx.created_at)),
    tx.reverses_id ? [h("dt", {}, "Reverses"), h("dd", {}, h("a", { href: href(`/transactions/${tx.reverses_id}`) }, `#${tx.reverses_id}`))] : null,
    tx.reversed_by_id ? [h("dt", {}, "Reversed by"), h("dd", {}, h("a", { href: href(`/transactions/${tx.reversed_by_id}`) }, `#${tx.reversed_by_id}`))] : null,
  );
  if (ctx.role === "customer") actions.append(unrecognisedButton(tx, out));
  // Element.append would print a left-out part as the text "null": only the parts there are.
  const parts = [
    ctx.heading(`Transaction #${tx.id}`),
    actions, out,
    h(
      "div",
      { class: "grid cols-2 section" },
      h("section", { class: "card" }, h("h2", {}, "Details"), facts),
      tx.risk ? h("section", { class: "card" }, h("h2", {}, "Risk"), riskPanel(tx.risk)) : null,
    ),
    h(
      "section",
      { class: "card section" },
      h("h2", {}, "Entries"),
      table({
        caption: "Entries",
        rows: tx.entries || [],
        emptyText: tx.status === "blocked" ? "Blocked: nothing was posted." : "No entries.",
        columns: [
          { label: "Account", render: (e) => partyText(e.party, "—") },
          { label: "Posted", render: (e) => dateTime(e.posted_at) },
          { label: "Amount", num: true, render: (e) => amountCell(e.amount, e.currency, { signed: true }) },
          { label: "Balance after", num: true, render: (e) => (e.balance_after === null ? h("td", { class: "num muted" }, "—") : amountCell(e.balance_after, e.currency)) },
        ],
      }),
    ),
    tx.flags && tx.flags.length
      ? h(
          "section",
          { class: "card section" },
          h("h2", {}, "Flags"),
          table({
            caption: "Flags",
            rows: tx.flags,
            columns: [
              { label: "When", cls: "when", render: (f) => dateTime(f.created_at) },
              { label: "By", render: (f) => flagger(f.flagged_by) },
              { label: "Reason", key: "reason" },
            ],
          }),
        )
      : null,
  ];
  main.append(...parts.filter(Boolean));
}
