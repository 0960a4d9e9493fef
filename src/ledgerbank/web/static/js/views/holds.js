// A customer's pending card payments (active holds) under an account: what they reserve is
// already out of the available balance, not yet out of the balance.

import { get } from "../api.js";
import { dateTime, money } from "../format.js";
import { h } from "../ui.js";

// The caller's active holds, grouped by account id (an empty map when there are none).
export async function activeHolds() {
  const page = await get("/holds", { status: "active", limit: 500 });
  const byAccount = new Map();
  for (const hold of page.items) {
    byAccount.set(hold.account_id, [...(byAccount.get(hold.account_id) || []), hold]);
  }
  return byAccount;
}

export function pendingHolds(account, holds) {
  if (!holds || !holds.length) return null;
  return h(
    "details",
    { class: "pending-holds" },
    h("summary", { class: "muted" }, `${holds.length} pending · ${money(account.held, account.currency)} held`),
    h(
      "ul",
      {},
      holds.map((hold) => h("li", {}, `${hold.description} — ${money(hold.amount, hold.currency)}`, h("span", { class: "muted" }, ` until ${dateTime(hold.expires_at)}`))),
    ),
  );
}
