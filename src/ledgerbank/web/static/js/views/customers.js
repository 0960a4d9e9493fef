// Staff search: customers and accounts by name, account number, username or email.

import { get } from "../api.js";
import { money, title } from "../format.js";
import { href, setQuery } from "../router.js";
import { clear, errorBox, field, formValues, h, loading, statusBadge, table } from "../ui.js";

export default async function render(ctx) {
  const { main, query } = ctx;
  const form = h(
    "form",
    { class: "fields", role: "search", "aria-label": "Find customers" },
    field({ label: "Name, account number or email", name: "q", value: query.q, minlength: 2, maxlength: 100, required: true, autocomplete: "off" }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn primary" }, "Search")),
  );
  const results = h("div", { class: "stack section", "aria-live": "polite" });
  main.append(ctx.heading("Customers"), h("section", { class: "card stack" }, form), results);
  const load = async () => {
    const { q } = formValues(form);
    if (!q || q.length < 2) {
      clear(results, h("p", { class: "muted" }, "Type at least two characters of a name, an account number or an email."));
      return;
    }
    clear(results, loading("Searching…"));
    let found;
    try {
      found = await get("/staff/search", { q });
    } catch (error) {
      if (ctx.alive()) clear(results, errorBox(error));
      return;
    }
    if (!ctx.alive()) return;
    clear(
      results,
      h("section", { class: "card stack" }, h("h2", {}, "Customers"), table({
        caption: "Customers found",
        rows: found.customers,
        emptyText: `No customer matches “${q}”.`,
        columns: [
          { label: "Name", render: (c) => h("a", { href: href(`/customers/${c.id}`) }, c.full_name) },
          { label: "Username", cls: "mono", render: (c) => c.username },
          { label: "Email", cls: "wide-only", render: (c) => c.email },
          { label: "KYC", render: (c) => statusBadge(c.kyc_status) },
          { label: "Active", render: (c) => (c.is_active ? "Yes" : "No") },
        ],
      })),
      h("section", { class: "card stack" }, h("h2", {}, "Accounts"), table({
        caption: "Accounts found",
        rows: found.accounts,
        emptyText: `No account matches “${q}”.`,
        columns: [
          { label: "Account", cls: "mono", render: (a) => a.account_number },
          { label: "Owner", render: (a) => (a.owner_id ? h("a", { href: href(`/customers/${a.owner_id}`) }, a.owner_name) : a.owner_name) },
          { label: "Type", cls: "wide-only", render: (a) => title(a.account_type) },
          { label: "Balance", num: true, render: (a) => money(a.balance, a.currency) },
          { label: "Status", render: (a) => statusBadge(a.status) },
        ],
      })),
    );
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setQuery(formValues(form));
    load();
  });
  await load();
}
