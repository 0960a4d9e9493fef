// Charts with Plotly.js, served by ledgerbank from the installed `plotly` package, loaded on demand.

let loading = null;
const charts = new Set();

export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/vendor/plotly.min.js";
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => {
      loading = null;
      reject(new Error("the chart library could not be loaded"));
    };
    document.head.append(script);
  });
  return loading;
}

function colors() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return { text: read("--text"), muted: read("--text-muted"), grid: read("--border"), accent: read("--accent"), ok: read("--ok"), warn: read("--warn"), danger: read("--danger") };
}

export function palette() {
  return colors();
}

function themed(layout) {
  const c = colors();
  return {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: c.text, family: "system-ui, sans-serif", size: 12 },
    margin: { l: 56, r: 16, t: 24, b: 48 },
    legend: { orientation: "h", y: -0.2 },
    ...layout,
    xaxis: { gridcolor: c.grid, zerolinecolor: c.grid, ...(layout.xaxis || {}) },
    yaxis: { gridcolor: c.grid, zerolinecolor: c.grid, ...(layout.yaxis || {}) },
  };
}

// Draws (or redraws) a chart into `node`; it follows the theme and the node's width.
export async function plot(node, traces, layout = {}) {
  const Plotly = await loadPlotly();
  if (!node.isConnected) return;
  node.setAttribute("role", "img");
  await Plotly.react(node, traces, themed(layout), { displaylogo: false, responsive: true, displayModeBar: false });
  node.dataset.layout = JSON.stringify(layout);
  charts.add(node);
}

window.addEventListener("ledgerbank:theme", () => {
  for (const node of [...charts]) {
    if (!node.isConnected) {
      charts.delete(node);
      continue;
    }
    window.Plotly?.relayout(node, themed(JSON.parse(node.dataset.layout || "{}")));
  }
});
