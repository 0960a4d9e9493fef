// Saved payees: the accounts a customer pays often, under their own nickname. Saving one looks
// the number up (the holder's name as the bank holds it); paying one goes through the review.

import { get, post, request } from "../api.js";
import { date } from "../format.js";
import { href } from "../router.js";
import { badge, clear, errorBox, field, formValues, h, loading, okBox, submitting, table } from "../ui.js";

export default async function render(ctx) {
  const { main } = ctx;
  const list = h("div", {}, loading());
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "fields", "aria-label": "Add a payee" },
    field({ label: "Account number", name: "account_number", inputmode: "numeric", pattern: "[0-9]{12}", minlength: 12, maxlength: 12, required: true, hint: "The 12-digit number the payee gave you." }),
    field({ label: "Nickname (optional)", name: "nickname", maxlength: 80, hint: "How you will find them, e.g. Landlord" }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn primary" }, "Add payee")),
  );
  main.append(
    ctx.heading("Payees"),
    h("section", { class: "card" }, h("h2", {}, "Your payees"), list),
    h("section", { class: "card section" }, h("h2", {}, "Add a payee"), form, out),
  );

  const load = async () => {
    const payees = (await get("/payees")).items;
    if (!ctx.alive()) return;
    clear(
      list,
      table({
        caption: "Your payees",
        rows: payees,
        emptyText: "No saved payees yet. Add one below, or tick “Save this payee” when you pay someone new.",
        columns: [
          { label: "Nickname", render: (p) => h("strong", {}, p.nickname) },
          { label: "Name at the bank", render: (p) => p.holder },
          { label: "Account", render: (p) => p.account_number },
          { label: "Since", cls: "wide-only", render: (p) => date(p.created_at) },
          {
            label: "",
            render: (p) =>
              h(
                "div",
                { class: "row" },
                p.payable ? h("a", { class: "btn small primary", href: href("/move", { tab: "transfer", payee_id: p.id }) }, "Pay") : badge("cannot be paid now", "warn"),
                h("button", { type: "button", class: "btn small", dataset: { action: "remove" }, onclick: () => remove(p) }, "Remove"),
              ),
          },
        ],
      }),
    );
  };
  const remove = async (payee) => {
    try {
      await request("DELETE", `/payees/${payee.id}`);
      clear(out, okBox(`Removed ${payee.nickname}.`));
      await load();
    } catch (error) {
      clear(out, errorBox(error));
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const added = await submitting(form, out, () => post("/payees", { account_number: values.account_number, ...(values.nickname ? { nickname: values.nickname } : {}) }));
    if (added) {
      form.reset();
      clear(out, okBox(`Added ${added.nickname}: ${added.holder} ${added.account_number}. Check this is who you expect before you pay them.`));
      await load();
    }
  });
  await load();
}
