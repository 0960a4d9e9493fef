// The fraud analyst's workspace: the alert queue and the newest transactions, both live.

import { get } from "../api.js";
import { clear, h, loading } from "../ui.js";
import { alertQueue } from "./alerts.js";
import { activityTable } from "./parts.js";

export default async function render(ctx) {
  const { main } = ctx;
  const latest = h("div", {}, loading());
  main.append(ctx.heading("Fraud alerts"));
  main.append(await alertQueue(ctx, "fraud"));
  if (!ctx.alive()) return;
  main.append(h("section", { class: "card section" }, h("h2", {}, "Latest transactions"), latest));
  const loadLatest = async () => {
    const page = await get("/transactions/history", { limit: 10, sort: "-created_at" });
    if (ctx.alive()) clear(latest, activityTable(page.items, [], { staff: true }));
  };
  ctx.live("transaction", () => loadLatest());
  await loadLatest();
}
