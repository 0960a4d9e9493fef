// A hash router: "#/history?type=deposit" -> the view registered for "/history", with its query.

const routes = [];
let current = null;
let renderRoute = null;

// pattern: "/fraud/alerts/:id"
export function route(pattern, view) {
  const names = [];
  const regex = new RegExp(`^${pattern.replace(/:[a-z_]+/g, (m) => (names.push(m.slice(1)), "([^/]+)"))}$`);
  routes.push({ pattern, regex, names, view });
}

export function parseHash(hash = window.location.hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path: path || "/", query: Object.fromEntries(new URLSearchParams(search)) };
}

export function match(path) {
  for (const entry of routes) {
    const found = entry.regex.exec(path);
    if (found) {
      const params = Object.fromEntries(entry.names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { ...entry, params };
    }
  }
  return null;
}

export function href(path, query = {}) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v !== undefined && v !== null)).toString();
  return `#${path}${search ? `?${search}` : ""}`;
}

export function navigate(path, query = {}, { replace = false } = {}) {
  const target = href(path, query);
  if (window.location.hash === target) return renderRoute?.();
  if (replace) {
    history.replaceState(null, "", target);
    return renderRoute?.();
  }
  window.location.hash = target;
}

// Replaces the query of the current route without re-rendering (filters, paging).
export function setQuery(query) {
  const { path } = parseHash();
  history.replaceState(null, "", href(path, query));
}

export function start(render) {
  renderRoute = render;
  window.addEventListener("hashchange", () => render());
  return render();
}

export function currentView() {
  return current;
}

export function setCurrentView(view) {
  current = view;
}
