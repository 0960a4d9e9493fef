// Administration: users with their roles, KYC status and access; creating staff, deactivating,
// unlocking, reset links and second-factor resets. Role and KYC changes ask for confirmation
// and a reason; making someone staff, reset links and second-factor resets wait for a second
// administrator (the Approvals page).

import { get, post, put } from "../api.js";
import { dateTime, title } from "../format.js";
import { href, setQuery } from "../router.js";
import { askReason, clear, errorBox, field, formValues, h, loading, okBox, statusBadge, submitting, table } from "../ui.js";

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
  const createOut = h("div", { "aria-live": "polite" });
  const create = h(
    "form",
    { class: "fields", "aria-label": "Create a staff user" },
    field({ label: "Username", name: "username", required: true, maxlength: 64 }),
    field({ label: "Full name", name: "full_name", required: true, maxlength: 200 }),
    field({ label: "Email", name: "email", type: "email", required: true }),
    field({ label: "Role", name: "role", type: "select", options: ROLES.filter((r) => r !== "customer").map((r) => [r, title(r)]) }),
    field({ label: "Reason", name: "reason", maxlength: 500 }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn primary" }, "Propose")),
  );
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(create);
    const proposed = await submitting(create, createOut, () => post("/admin/users", { ...values, reason: values.reason || null }));
    if (proposed) {
      create.reset();
      clear(createOut, okBox(`Proposed: ${proposed.summary}. A second administrator approves it on the Approvals page; they get the new user's password link.`));
    }
  });
  main.append(
    ctx.heading("Users"),
    h("section", { class: "card" }, form),
    out,
    results,
    h("section", { class: "card section" }, h("h2", {}, "Create a staff user"), create, createOut),
  );

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
          { label: "Access", render: (u) => [statusBadge(u.is_active ? "active" : "closed"), u.second_factor ? h("div", { class: "muted" }, "two-step sign-in on") : null, u.locked_until ? h("div", { class: "muted" }, `locked until ${dateTime(u.locked_until)}`) : null] },
          { label: "", render: (u) => h("div", { class: "row wrap" }, u.role === "customer" ? h("a", { href: href("/accounts", { owner_id: u.id }) }, "Accounts") : null, actionsFor(u, out, load, ctx.session)) },
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

// A select whose change is confirmed with a reason before it is saved.
function picker(user, what, choices, out) {
  const current = what === "role" ? user.role : user.kyc_status;
  const label = what === "role" ? "role" : "KYC status";
  const select = h(
    "select",
    { "aria-label": `${what === "role" ? "Role" : "KYC status"} of ${user.username}`, name: `${what}-${user.id}` },
    choices.map((choice) => h("option", { value: choice, selected: choice === current }, title(choice))),
  );
  let saved = current;
  select.addEventListener("change", async () => {
    const value = select.value;
    const reason = await askReason({
      heading: `Change the ${label} of ${user.username} from ${title(saved)} to ${title(value)}?`,
      confirm: "Change",
      danger: what === "role",
      extra: what === "role" && value !== "customer" ? h("p", {}, "A staff role takes effect once a second administrator approves it. The user's sessions end.") : null,
    });
    if (!reason) {
      select.value = saved;
      return;
    }
    select.disabled = true;
    try {
      const body = what === "role" ? { role: value, reason } : { kyc_status: value, reason };
      const answer = await put(`/admin/users/${user.id}/${what}`, body);
      if (answer.approval_id) {
        select.value = saved;
        clear(out, okBox(`Proposed: ${answer.summary}. It waits for a second administrator (Approvals).`));
      } else {
        saved = value;
        clear(out, okBox(`${user.username}: ${label} is now ${title(value)}.`));
      }
    } catch (error) {
      select.value = saved;
      clear(out, errorBox(error));
    } finally {
      select.disabled = false;
    }
  });
  return select;
}

// Deactivate or reactivate, unlock, and the four-eyes proposals about a user.
function actionsFor(user, out, reload, session) {
  if (user.id === session.userId) return null;
  const act = async (work, done) => {
    try {
      const answer = await work();
      clear(out, okBox(answer?.approval_id ? `Proposed: ${answer.summary}. A second administrator decides it (Approvals).` : done));
      await reload();
    } catch (error) {
      clear(out, errorBox(error));
    }
  };
  const button = (text, onclick, kind = "") => h("button", { type: "button", class: `btn small ${kind}`.trim(), onclick }, text);
  return [
    button(user.is_active ? "Deactivate" : "Reactivate", async () => {
      const reason = await askReason({ heading: `${user.is_active ? "Deactivate" : "Reactivate"} ${user.username}?`, confirm: user.is_active ? "Deactivate" : "Reactivate", danger: user.is_active });
      if (reason) act(() => put(`/admin/users/${user.id}/active`, { is_active: !user.is_active, reason }), `${user.username} is now ${user.is_active ? "deactivated; every session ended" : "active"}.`);
    }, user.is_active ? "danger" : ""),
    user.locked_until ? button("Unlock", () => act(() => post(`/admin/users/${user.id}/unlock`), `${user.username} can sign in again.`)) : null,
    button("Reset password", () => act(() => post(`/admin/users/${user.id}/password-reset`), "")),
    user.second_factor ? button("Reset two-step", () => act(() => post(`/admin/users/${user.id}/2fa/reset`), "")) : null,
  ];
}
