// The app shell: sign-in gate, navigation by role, the view lifecycle, live updates.

import { getSession, loadSession, onSessionChange, signOut } from "./api.js";
import { clear, errorBox, h, loading } from "./ui.js";
import { title } from "./format.js";
import { match, navigate, parseHash, route, start } from "./router.js";
import { themeToggle } from "./theme.js";
import { on, onLiveState, startLive, stopLive } from "./live.js";
import { NAV, homeFor, allowed } from "./nav.js";
import { noticeLink } from "./views/security.js";

const views = {
  "/dashboard": () => import("./views/dashboard.js"),
  "/accounts": () => import("./views/accounts.js"),
  "/move": () => import("./views/move.js"),
  "/history": () => import("./views/history.js"),
  "/insights": () => import("./views/insights.js"),
  "/profile": () => import("./views/profile.js"),
  "/fraud": () => import("./views/fraud.js"),
  "/fraud/alerts/:id": () => import("./views/alert.js"),
  "/compliance/alerts/:id": () => import("./views/alert.js"),
  "/transactions/:id": () => import("./views/transaction.js"),
  "/reports": () => import("./views/reports.js"),
  "/compliance": () => import("./views/compliance.js"),
  "/audit": () => import("./views/audit.js"),
  "/ledgergpt": () => import("./views/ledgergpt.js"),
  "/ledger": () => import("./views/ledger.js"),
  "/admin/users": () => import("./views/admin-users.js"),
  "/admin/import": () => import("./views/admin-import.js"),
  "/approvals": () => import("./views/approvals.js"),
  "/security": () => import("./views/security.js"),
  "/exchange": () => import("./views/exchange.js"),
  "/rates": () => import("./views/rates.js"),
  "/customers": () => import("./views/customers.js"),
  "/customers/:id": () => import("./views/customer.js"),
  "/scheduled": () => import("./views/scheduled.js"),
  "/admin/jobs": () => import("./views/admin-jobs.js"),
  "/payees": () => import("./views/payees.js"),
};
for (const [pattern, load] of Object.entries(views)) route(pattern, load);
route("/signin", () => import("./views/signin.js"));
// Pages outside the shell: a reset link's page (no session) and second-factor enrolment.
const PUBLIC = { "/reset-password": () => import("./views/reset-password.js") };
const enrolView = () => import("./views/enrol.js");

const root = document.getElementById("app");
let shell = null;
let cleanups = [];
let renderCount = 0;

function buildShell(session) {
  const nav = h("nav", { class: "nav", "aria-label": "Main" });
  let group = null;
  for (const item of NAV) {
    if (!allowed(session.role, item.path)) continue;
    if (item.group && item.group !== group) {
      group = item.group;
      nav.append(h("div", { class: "nav-group", role: "presentation" }, group));
    }
    nav.append(h("a", { href: `#${item.path}`, dataset: { path: item.path } }, item.label(session.role)));
  }
  const main = h("main", { id: "main", tabindex: -1 });
  const liveIndicator = h("span", { class: "live-indicator", role: "status", "aria-live": "polite" }, "Offline");
  const layout = h(
    "div",
    { class: "shell" },
    h("button", { type: "button", class: "skip-link", onclick: () => main.focus() }, "Skip to content"),
    h("aside", { class: "sidebar", id: "sidebar" }, h("div", { class: "brand" }, h("img", { src: "/static/img/logo.svg", alt: "" }), "ledgerbank"), nav),
    h(
      "div",
      {},
      h(
        "header",
        { class: "topbar" },
        h(
          "div",
          { class: "row" },
          h("button", { type: "button", class: "btn small menu-toggle", "aria-controls": "sidebar", "aria-expanded": "false", onclick: (event) => toggleMenu(event.currentTarget) }, "☰ Menu"),
          h("span", { class: "who" }, `${session.fullName || session.username} · ${title(session.role)}`),
        ),
        h(
          "div",
          { class: "topbar-actions" },
          liveIndicator,
          noticeLink(),
          themeToggle(),
          h("button", { type: "button", class: "btn small", onclick: () => { signOut(); } }, "Sign out"),
        ),
      ),
      main,
    ),
  );
  // The phone menu closes on a tap on any link (the page you are on too), Escape, a tap outside.
  const menuButton = layout.querySelector(".menu-toggle");
  const closeMenu = () => layout.classList.contains("nav-open") && toggleMenu(menuButton, false);
  nav.addEventListener("click", (event) => event.target.closest("a") && closeMenu());
  layout.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && layout.classList.contains("nav-open")) {
      closeMenu();
      menuButton.focus();
    }
  });
  layout.addEventListener("pointerdown", (event) => {
    if (!event.target.closest(".sidebar, .menu-toggle")) closeMenu();
  });
  onLiveState((state) => {
    liveIndicator.dataset.state = state;
    liveIndicator.textContent = { open: "Live", connecting: "Connecting…", error: "Reconnecting…", closed: "Offline" }[state];
  });
  return { layout, main, nav, role: session.role, user: session.username };
}

function toggleMenu(button, open) {
  const next = open ?? button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(next));
  button.closest(".shell").classList.toggle("nav-open", next);
}

function runCleanups() {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch (error) {
      console.error(error);
    }
  }
  cleanups = [];
}

async function render() {
  const session = getSession();
  const { path, query } = parseHash();
  runCleanups();
  const mine = ++renderCount;

  if ((!session && PUBLIC[path]) || session?.enrolOnly) {
    shell = null;
    stopLive();
    const module = await (session ? enrolView() : PUBLIC[path]());
    if (mine !== renderCount) return;
    clear(root);
    return module.default({ root, query });
  }
  if (!session) {
    shell = null;
    stopLive();
    if (path !== "/signin") return navigate("/signin", {}, { replace: true });
    const module = await match("/signin").view();
    if (mine !== renderCount) return;
    clear(root);
    return module.default({ root, query });
  }
  if (path === "/" || path === "/signin" || !match(path)) return navigate(homeFor(session.role), {}, { replace: true });
  if (!shell || shell.role !== session.role || shell.user !== session.username) {
    shell = buildShell(session);
    clear(root, shell.layout);
    startLive();
  }
  for (const link of shell.nav.querySelectorAll("a")) {
    const active = path === link.dataset.path || path.startsWith(`${link.dataset.path}/`);
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const menu = shell.layout.querySelector(".menu-toggle");
  toggleMenu(menu, false);

  const found = match(path);
  const main = shell.main;
  main.dataset.ready = "false";
  main.dataset.route = found.pattern;
  if (!allowed(session.role, found.pattern)) {
    clear(main, h("h1", {}, "Not available"), h("p", {}, `The ${title(session.role)} role has no access to this page.`));
    main.dataset.ready = "true";
    return;
  }
  clear(main, loading());
  const ctx = {
    main,
    params: found.params,
    query,
    session,
    role: session.role,
    alive: () => mine === renderCount,
    onCleanup: (fn) => cleanups.push(fn),
    live: (type, callback) => cleanups.push(on(type, (data) => mine === renderCount && callback(data))),
    heading: (text) => {
      document.title = `${text} · ledgerbank`;
      return h("h1", { tabindex: -1 }, text);
    },
  };
  try {
    const module = await found.view();
    if (mine !== renderCount) return;
    clear(main);
    await module.default(ctx);
    if (mine === renderCount && document.activeElement === document.body) main.querySelector("h1")?.focus({ preventScroll: true });
  } catch (error) {
    if (mine !== renderCount) return;
    clear(main, h("h1", {}, "This page could not be shown"), errorBox(error));
  }
  if (mine === renderCount) main.dataset.ready = "true";
}

onSessionChange((session) => {
  if (!session) {
    runCleanups();
    stopLive();
    shell = null;
    render();
  }
});

loadSession();
start(render);
