// The worker's jobs (admin): schedule, last and next run, last outcome, recent failures.

import { get } from "../api.js";
import { count, dateTime } from "../format.js";
import { badge, h, loading, table } from "../ui.js";

const KIND = { ok: "ok", failed: "danger", interrupted: "warn", running: "info" };

export default async function render(ctx) {
  const { main } = ctx;
  main.append(ctx.heading("Jobs"), loading());
  const overview = await get("/admin/jobs");
  if (!ctx.alive()) return;
  main.lastChild.remove();
  const every = (seconds) => (seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);
  main.append(
    h("p", { class: "muted" }, "What `ledgerbank worker` runs. A job whose worker stopped mid-run is run again once its lease runs out."),
    table({
      caption: "Jobs",
      rows: overview.items,
      emptyText: "No worker has run yet: start one with `ledgerbank worker`.",
      columns: [
        { label: "Job", render: (j) => h("div", {}, h("strong", {}, j.name), h("div", { class: "muted" }, j.description)) },
        { label: "Every", render: (j) => every(j.every_seconds) },
        { label: "Last run", render: (j) => (j.last_started_at ? dateTime(j.last_started_at) : "never") },
        { label: "Outcome", render: (j) => (j.running ? badge("running", "info") : j.last_outcome ? badge(j.last_outcome, KIND[j.last_outcome]) : "—") },
        { label: "Next run", render: (j) => dateTime(j.next_run_at) },
      ],
    }),
    h("h2", {}, "Recent failures"),
    table({
      caption: "Recent failed or interrupted runs",
      rows: overview.recent_failures,
      emptyText: "No failures.",
      columns: [
        { label: "Job", render: (r) => r.job_name },
        { label: "Started", render: (r) => dateTime(r.started_at) },
        { label: "Outcome", render: (r) => badge(r.outcome, KIND[r.outcome]) },
        { label: "Items", num: true, render: (r) => count(r.items) },
        { label: "Error", render: (r) => h("code", {}, r.error || "") },
        { label: "Worker", render: (r) => r.worker },
      ],
    }),
  );
}
