// Which pages each role sees: mirrors the role -> permission table of identity/permissions.py.

const STAFF = ["admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"];
const EVERYONE = ["customer", ...STAFF];

const same = (text) => () => text;

export const NAV = [
  { path: "/dashboard", label: same("Dashboard"), roles: ["customer"], group: "Banking" },
  { path: "/accounts", label: same("Accounts"), roles: EVERYONE, group: "Banking" },
  { path: "/move", label: same("Transactions"), roles: ["customer"], group: "Banking" },
  { path: "/exchange", label: same("Exchange"), roles: ["customer"], group: "Banking" },
  { path: "/history", label: (role) => (role === "customer" ? "History" : "All transactions"), roles: EVERYONE, group: "Banking" },
  { path: "/payees", label: same("Payees"), roles: ["customer"], group: "Banking" },
  { path: "/insights", label: same("Insights"), roles: ["customer"], group: "Banking" },
  { path: "/scheduled", label: same("Scheduled payments"), roles: ["customer"], group: "Banking" },
  { path: "/fraud", label: same("Fraud alerts"), roles: ["fraud_analyst", "admin"], group: "Workspace" },
  { path: "/customers", label: same("Customers"), roles: ["fraud_analyst", "compliance_officer", "admin"], group: "Workspace" },
  { path: "/compliance", label: same("AML & compliance"), roles: ["compliance_officer", "admin"], group: "Workspace" },
  { path: "/reports", label: same("Reports"), roles: ["financial_manager", "auditor", "admin"], group: "Workspace" },
  { path: "/ledgergpt", label: same("LedgerGPT"), roles: ["auditor", "compliance_officer", "admin"], group: "Workspace" },
  { path: "/ledger", label: same("Ledger"), roles: ["auditor", "admin"], group: "Workspace" },
  { path: "/audit", label: same("Audit log"), roles: ["auditor", "compliance_officer", "admin"], group: "Workspace" },
  { path: "/rates", label: same("Rates"), roles: STAFF, group: "Workspace" },
  { path: "/approvals", label: same("Approvals"), roles: STAFF, group: "Workspace" },
  { path: "/admin/users", label: same("Users"), roles: ["admin"], group: "Administration" },
  { path: "/admin/import", label: same("Import history"), roles: ["admin"], group: "Administration" },
  { path: "/admin/jobs", label: same("Jobs"), roles: ["admin"], group: "Administration" },
  { path: "/profile", label: same("Profile"), roles: EVERYONE, group: "You" },
  { path: "/security", label: same("Security"), roles: EVERYONE, group: "You" },
];

// Pages reached from others rather than from the menu.
const EXTRA = {
  "/fraud/alerts/:id": ["fraud_analyst", "admin"],
  "/compliance/alerts/:id": ["compliance_officer", "admin"],
  "/transactions/:id": EVERYONE,
  "/customers/:id": ["fraud_analyst", "compliance_officer", "admin"],
};

const HOME = {
  customer: "/dashboard",
  fraud_analyst: "/fraud",
  financial_manager: "/reports",
  compliance_officer: "/compliance",
  auditor: "/ledgergpt",
  admin: "/admin/users",
};

export function homeFor(role) {
  return HOME[role] || "/profile";
}

export function allowed(role, pattern) {
  const item = NAV.find((entry) => entry.path === pattern);
  const roles = item ? item.roles : EXTRA[pattern];
  return Boolean(roles && roles.includes(role));
}

export const isStaff = (role) => STAFF.includes(role);
