// The financial manager's workspace: KPIs, trend charts, the custom report builder, CSV/XLSX.

import { download, get, post, request } from "../api.js";
import { palette, plot } from "../charts.js";
import { count, dayEnd, dayStart, isoDay, money, month, title } from "../format.js";
import { amountField, checkbox, clear, compact, errorBox, field, formValues, h, loading, stat, table, toast } from "../ui.js";

const DIMENSIONS = ["type", "status", "account_type", "currency", "day", "week", "month", "customer", "verdict"];
const METRICS = ["count", "sum", "avg", "min", "max"];
const TYPES = ["deposit", "withdrawal", "transfer", "fee", "journal", "reversal"];
const STATUSES = ["posted", "blocked", "reversed"];
const TREND_METRICS = ["count", "volume", "average", "blocked", "new_accounts", "new_customers"];

export default async function render(ctx) {
  const { main } = ctx;
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 30 * 86_400_000);

  // --- KPIs ---
  const kpiForm = h(
    "form",
    { class: "fields inline", "aria-label": "KPI period" },
    field({ label: "From", name: "from", type: "date", value: isoDay(monthAgo) }),
    field({ label: "To", name: "to", type: "date", value: isoDay(today) }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Update")),
  );
  const kpiOut = h("div", { class: "stack" }, loading());
  const loadKpis = async () => {
    const values = formValues(kpiForm);
    clear(kpiOut, loading());
    try {
      const k = await get("/reports/kpis", { from: dayStart(values.from), to: dayEnd(values.to), compare: values.from ? "previous" : "" });
      if (ctx.alive()) clear(kpiOut, kpiCards(k));
    } catch (error) {
      clear(kpiOut, errorBox(error));
    }
  };
  kpiForm.addEventListener("submit", (event) => {
    event.preventDefault();
    loadKpis();
  });

  // --- trends ---
  const trendForm = h(
    "form",
    { class: "fields", "aria-label": "Trend" },
    field({ label: "Metric", name: "metric", type: "select", value: "volume", options: TREND_METRICS.map((m) => [m, title(m)]) }),
    field({ label: "Interval", name: "interval", type: "select", value: "day", options: [["day", "Day"], ["week", "Week"], ["month", "Month"]] }),
    field({ label: "From", name: "from", type: "date", value: isoDay(new Date(today.getTime() - 90 * 86_400_000)) }),
    field({ label: "To", name: "to", type: "date", value: isoDay(today) }),
    h("div", { class: "field" }, checkbox({ label: "One line per type", name: "by_type" })),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Draw")),
  );
  const trendChart = h("div", { class: "chart", "aria-label": "Trend chart" });
  const trendOut = h("div", { "aria-live": "polite" });
  const loadTrend = async () => {
    const values = formValues(trendForm);
    clear(trendOut);
    try {
      const trend = await get("/reports/trends", { metric: values.metric, interval: values.interval, from: dayStart(values.from), to: dayEnd(values.to), by_type: values.by_type ? "true" : "" });
      if (ctx.alive()) await drawTrend(trendChart, trend);
    } catch (error) {
      clear(trendOut, errorBox(error));
    }
  };
  trendForm.addEventListener("submit", (event) => {
    event.preventDefault();
    loadTrend();
  });

  // --- custom report builder ---
  const builder = h(
    "form",
    { class: "stack", "aria-label": "Custom report" },
    h("fieldset", {}, h("legend", {}, "Group by"), h("div", { class: "row" }, DIMENSIONS.map((d) => checkbox({ label: title(d), name: "group_by", value: d, checked: d === "type" })))),
    h("fieldset", {}, h("legend", {}, "Metrics"), h("div", { class: "row" }, METRICS.map((m) => checkbox({ label: title(m), name: "metrics", value: m, checked: m === "count" || m === "sum" })))),
    h(
      "fieldset",
      {},
      h("legend", {}, "Filters"),
      h("div", { class: "row" }, h("span", { class: "muted" }, "Types:"), TYPES.map((t) => checkbox({ label: title(t), name: "types", value: t }))),
      h("div", { class: "row" }, h("span", { class: "muted" }, "Statuses:"), STATUSES.map((s) => checkbox({ label: title(s), name: "statuses", value: s }))),
      h(
        "div",
        { class: "fields" },
        field({ label: "From", name: "from", type: "date", value: isoDay(monthAgo) }),
        field({ label: "To", name: "to", type: "date", value: isoDay(today) }),
        amountField({ label: "Min amount", name: "min_amount" }),
        amountField({ label: "Max amount", name: "max_amount" }),
        field({ label: "Currency", name: "currency", maxlength: 3, placeholder: "all" }),
      ),
    ),
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit", class: "btn primary" }, "Run report"),
      h("button", { type: "button", class: "btn", dataset: { export: "csv" }, onclick: () => exportReport("csv") }, "Export CSV"),
      h("button", { type: "button", class: "btn", dataset: { export: "xlsx" }, onclick: () => exportReport("xlsx") }, "Export XLSX"),
    ),
  );
  const reportOut = h("div", { class: "section report-result", "aria-live": "polite" });
  const spec = () => {
    const v = formValues(builder);
    const filters = compact({
      types: v.types.length ? v.types : undefined,
      statuses: v.statuses.length ? v.statuses : undefined,
      currencies: v.currency ? [v.currency.toUpperCase()] : undefined,
      min_amount: v.min_amount,
      max_amount: v.max_amount,
      from: v.from,
      to: v.to,
    });
    return { group_by: v.group_by, metrics: v.metrics.length ? v.metrics : ["count"], filters };
  };
  const runReport = async () => {
    clear(reportOut, loading());
    try {
      const report = await post("/reports/custom", spec());
      if (ctx.alive()) clear(reportOut, reportTable(report));
    } catch (error) {
      clear(reportOut, errorBox(error));
    }
  };
  const exportReport = async (format) => {
    try {
      const file = await download("POST", "/reports/custom", { query: { format }, body: spec(), filename: `report.${format}` });
      toast(`Downloaded ${file.name}.`, "ok");
    } catch (error) {
      clear(reportOut, errorBox(error));
    }
  };
  builder.addEventListener("submit", (event) => {
    event.preventDefault();
    runReport();
  });
  const saved = savedReports(ctx, spec, (definition) => {
    fill(builder, definition);
    runReport();
  });

  main.append(
    ctx.heading("Reports"),
    h("section", { class: "card stack" }, h("div", { class: "spread" }, h("h2", {}, "Key figures"), kpiForm), kpiOut),
    h("section", { class: "card section stack" }, h("h2", {}, "Trends"), trendForm, trendOut, trendChart),
    h("section", { class: "card section stack" }, h("h2", {}, "Custom report"), builder, saved.form, reportOut),
    saved.list,
  );
  await Promise.all([loadKpis(), loadTrend(), runReport(), saved.load()]);
}

// "▲ 12% vs. the previous 30 days": a figure against the period of equal length before it.
function versus(now, before, days) {
  if (before === undefined || before === null) return null;
  const a = Number(now);
  const b = Number(before);
  const span = `vs. the previous ${days} day${days === 1 ? "" : "s"}`;
  if (!b) return h("span", { class: "delta" }, a ? `none in the previous ${days} day${days === 1 ? "" : "s"}` : `unchanged ${span}`);
  const change = Math.round(((a - b) / b) * 100);
  if (!change) return h("span", { class: "delta" }, `unchanged ${span}`);
  return h("span", { class: `delta ${change > 0 ? "up" : "down"}` }, `${change > 0 ? "▲" : "▼"} ${Math.abs(change)}% ${span}`);
}

function kpiCards(k) {
  const p = k.previous;
  const days = p && p.period_start && p.period_end ? Math.max(1, Math.round((new Date(p.period_end) - new Date(p.period_start)) / 86_400_000)) : 0;
  const volumes = k.by_type.map((row) => h("tr", {}, h("td", {}, title(row.type)), h("td", { class: "num" }, count(row.count)), h("td", { class: "amount" }, money(row.volume, row.currency))));
  const unresolved = (k.alert_counts?.unresolved || []).map((q) => `${title(q.queue)}: ${count(q.count)}`).join(" · ") || "none";
  return h(
    "div",
    { class: "stack" },
    h(
      "div",
      { class: "grid cols-4" },
      stat("Transactions", count(k.transaction_count), [`${count(k.blocked_count)} blocked · `, versus(k.transaction_count, p?.transaction_count, days)]),
      stat("Active accounts", count(k.active_accounts), [`${count(k.new_accounts)} opened · `, versus(k.active_accounts, p?.active_accounts, days)]),
      stat("New customers", count(k.new_customers), versus(k.new_customers, p?.new_customers, days)),
      stat("Open alerts", count((k.alert_counts?.unresolved || []).reduce((sum, q) => sum + q.count, 0)), unresolved),
      ...k.average_balance.map((b) => stat(`Average balance (${b.currency})`, h("span", { class: "amount" }, money(b.average_balance, b.currency)), `${count(b.accounts)} account${b.accounts === 1 ? "" : "s"} · total ${money(b.total_balance, b.currency)}`)),
    ),
    volumes.length
      ? h("div", { class: "table-wrap" }, h("table", {}, h("caption", { class: "visually-hidden" }, "Volume by type"), h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Type"), h("th", { scope: "col", class: "num" }, "Count"), h("th", { scope: "col", class: "num" }, "Volume"))), h("tbody", {}, volumes)))
      : h("p", { class: "empty" }, "No transactions in this period."),
  );
}

async function drawTrend(node, trend) {
  const series = new Map();
  for (const point of trend.points) {
    const key = [point.type, point.currency].filter(Boolean).join(" ") || trend.metric;
    if (!series.has(key)) series.set(key, { x: [], y: [], text: [], currency: point.currency });
    const s = series.get(key);
    s.x.push(trend.interval === "month" ? month(point.period) : point.period);
    s.y.push(point.value === null ? null : Number(point.value));
    s.text.push(point.value === null ? "—" : typeof point.value === "string" && point.currency ? money(point.value, point.currency) : count(point.value));
  }
  if (!series.size) {
    clear(node, h("p", { class: "empty" }, "No data in this period."));
    return;
  }
  const colours = palette();
  const traces = [...series.entries()].map(([name, s], i) => ({
    type: "scatter", mode: "lines+markers", name, x: s.x, y: s.y, text: s.text,
    hovertemplate: "%{x}<br>%{text}<extra>%{fullData.name}</extra>",
    line: i === 0 ? { color: colours.accent } : {},
  }));
  await plot(node, traces, { showlegend: traces.length > 1, yaxis: { title: { text: title(trend.metric) } }, xaxis: { type: trend.interval === "month" ? "category" : "date" } });
}

function reportTable(report) {
  const moneyColumn = (name) => ["sum", "avg", "min", "max"].includes(name);
  return h(
    "div",
    { class: "stack" },
    h("p", { class: "muted" }, `${count(report.row_count)} rows${report.truncated ? " (truncated: narrow the filters)" : ""}.`),
    table({
      caption: "Custom report",
      rows: report.rows,
      emptyText: "No transactions match.",
      columns: report.columns.map((column) => ({
        label: title(column.name),
        num: column.type !== "text" && column.type !== "string" && !report.group_by.includes(column.name),
        render: (row) => {
          const value = row[column.name];
          if (moneyColumn(column.name) && row.currency) return h("td", { class: "amount" }, money(value, row.currency));
          if (column.name === "count") return h("td", { class: "num" }, count(value));
          return value === null || value === undefined ? "—" : String(value);
        },
      })),
    }),
  );
}

// Saved reports: the caller's own named report definitions (run, save the current one, delete).
function savedReports(ctx, spec, run) {
  const items = h("div", { class: "row wrap" }, loading());
  const out = h("div", { "aria-live": "polite" });
  const load = async () => {
    let answer;
    try {
      answer = await get("/reports/saved");
    } catch (error) {
      clear(items, errorBox(error));
      return;
    }
    if (!ctx.alive()) return;
    clear(
      items,
      answer.items.length
        ? answer.items.map((r) => h("span", { class: "saved-report row" },
            h("button", { type: "button", class: "btn small", onclick: () => { clear(out, h("p", { class: "muted" }, `Showing “${r.name}”.`)); run(r.definition); } }, r.name),
            h("button", { type: "button", class: "btn small danger", "aria-label": `Delete ${r.name}`, onclick: async () => {
              try {
                await request("DELETE", `/reports/saved/${r.id}`);
                toast(`Deleted “${r.name}”.`, "ok");
                load();
              } catch (error) {
                clear(out, errorBox(error));
              }
            } }, "×")))
        : h("p", { class: "muted" }, "No saved reports yet: build one above and save it."),
    );
  };
  const form = h(
    "form",
    { class: "fields inline", "aria-label": "Save this report" },
    field({ label: "Name", name: "name", required: true, maxlength: 120, placeholder: "e.g. Volume by type" }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Save")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { name } = formValues(form);
    if (!name) return;
    try {
      await post("/reports/saved", { name, definition: spec() });
      form.reset();
      toast(`Saved “${name}”.`, "ok");
      load();
    } catch (error) {
      clear(out, errorBox(error));
    }
  });
  const list = h("section", { class: "card section stack", "aria-label": "Saved reports" }, h("h2", {}, "Saved reports"), items, out);
  return { form, list, load };
}

// Puts a saved definition back into the builder's fields.
function fill(builder, definition) {
  const f = definition.filters || {};
  const ticked = { group_by: definition.group_by || [], metrics: definition.metrics || [], types: f.types || [], statuses: f.statuses || [] };
  for (const box of builder.querySelectorAll("input[type=checkbox]")) if (box.name in ticked) box.checked = ticked[box.name].includes(box.value);
  const set = (name, value) => { if (builder.elements[name]) builder.elements[name].value = value ?? ""; };
  set("from", f.from);
  set("to", f.to);
  set("min_amount", f.min_amount);
  set("max_amount", f.max_amount);
  set("currency", (f.currencies || [])[0]);
}
