// Administration: users with their roles, KYC status and access, changed in place.

import { get, put } from "../api.js";
import { dateTime, title } from "../format.js";
import { href, setQuery } from "../router.js";
import { clear, errorBox, field, formValues, h, loading, okBox, statusBadge, table } from "../ui.js";

const ROLES = ["customer", "admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"];
const KYC = ["pending", "verified", "rejected"];

export default async function render(ctx) {
  const { main, query } = ctx;
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "fields", role: "search", "aria-label": "Find users" },
    field({ label: "Search", name: "q", type: "search", value: query.q, placeholder: "username, email or name", maxlength: 100 }),
    field({ label: "Role", name: "role", type: "select", value: query.role, options: [["", "Any role"], ...ROLES.map((r) => [r, title(r)])] }),
    field({ label: "KYC status", name: "kyc_status", type: "select", value: query.kyc_status, options: [["", "Any"], ...KYC.map((k) => [k, title(k)])] }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Find")),
  );
  const results = h("div", { class: "section" }, loading());
  main.append(ctx.heading("Users"), h("section", { class: "card" }, form), out, results);

  let cursors = [null];
  const load = async () => {
    clear(results, loading());
    let page;
    try {
      page = await get("/admin/users", { ...formValues(form), limit: 50, cursor: cursors.at(-1) });
    } catch (error) {
      if (ctx.alive()) clear(results, errorBox(error));
      return;
    }
    if (!ctx.alive()) return;
    clear(
      results,
      table({
        caption: "Users",
        rows: page.items,
        emptyText: "No users match.",
        columns: [
          { label: "User", render: (u) => [h("strong", {}, u.username), h("div", { class: "muted" }, u.full_name)] },
          { label: "Email", key: "email" },
          { label: "Joined", cls: "when", render: (u) => dateTime(u.created_at) },
          { label: "Role", render: (u) => picker(u, "role", ROLES, out) },
          { label: "KYC", render: (u) => picker(u, "kyc", KYC, out) },
          { label: "Access", render: (u) => [statusBadge(u.is_active ? "active" : "closed"), u.locked_until ? h("div", { class: "muted" }, `locked until ${dateTime(u.locked_until)}`) : null] },
          { label: "", render: (u) => (u.role === "customer" ? h("a", { href: href("/accounts", { owner_id: u.id }) }, "Accounts") : "") },
        ],
      }),
      h(
        "nav",
        { class: "pager", "aria-label": "Pages" },
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

// A select that saves on change: PUT /admin/users/{id}/role or /kyc.
function picker(user, what, choices, out) {
  const current = what === "role" ? user.role : user.kyc_status;
  const select = h(
    "select",
    { "aria-label": `${what === "role" ? "Role" : "KYC status"} of ${user.username}`, name: `${what}-${user.id}` },
    choices.map((choice) => h("option", { value: choice, selected: choice === current }, title(choice))),
  );
  let saved = current;
  select.addEventListener("change", async () => {
    const value = select.value;
    select.disabled = true;
    try {
      const body = what === "role" ? { role: value } : { kyc_status: value };
      await put(`/admin/users/${user.id}/${what}`, body);
      saved = value;
      clear(out, okBox(`${user.username}: ${what === "role" ? "role" : "KYC status"} is now ${title(value)}.`));
    } catch (error) {
      select.value = saved;
      clear(out, errorBox(error));
    } finally {
      select.disabled = false;
    }
  });
  return select;
}
