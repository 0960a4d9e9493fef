// DOM helpers: elements built with text nodes only (never innerHTML), forms, tables, messages.

import { ApiError } from "./api.js";
import { fieldOf, knownCode, noteFor, plainFieldMessage } from "./messages.js";
import { money, title } from "./format.js";

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

// h("button", {class: "btn", onclick: fn, "aria-label": "x"}, "text", child, [more]).
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "value") node.value = value;
    else if (name === "checked" || name === "selected" || name === "disabled") node[name] = Boolean(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}`.trim() }, title(text));
}

const STATUS_KIND = {
  active: "ok", posted: "ok", verified: "ok", safe: "ok", closed: "", resolved: "ok",
  frozen: "danger", blocked: "danger", declined: "danger", rejected: "danger", approved: "ok", expired: "", failed: "danger", critical: "danger", fraud: "danger", high: "danger",
  pending: "warn", suspicious: "warn", open: "warn", investigating: "info", escalated: "danger",
  reversed: "info", medium: "warn", low: "info", false_positive: "ok", reported: "info",
};

export function statusBadge(status) {
  return badge(status || "—", STATUS_KIND[String(status || "").toLowerCase()] || "");
}

export function verdictBadge(verdict) {
  return badge(verdict || "—", STATUS_KIND[String(verdict || "").toLowerCase()] || "");
}

export function amountCell(amount, currency, { signed = false } = {}) {
  const text = String(amount ?? "");
  const negative = text.startsWith("-");
  const shown = signed && !negative && text ? `+${money(text, currency)}` : money(text, currency);
  return h("td", { class: `amount ${signed ? (negative ? "debit" : "credit") : ""}`.trim() }, shown);
}

// A labelled control. kind: input type, "select" (options [[value, label]]), "textarea".
export function field({ label, name, type = "text", value, options, hint, required, ...rest }) {
  const id = nextId(name);
  const hintId = hint ? `${id}-hint` : undefined;
  let control;
  if (type === "select") {
    control = h(
      "select",
      { id, name, required, "aria-describedby": hintId, ...rest },
      (options || []).map(([optionValue, optionLabel]) =>
        h("option", { value: optionValue, selected: String(optionValue) === String(value ?? "") }, optionLabel),
      ),
    );
  } else if (type === "textarea") {
    control = h("textarea", { id, name, required, "aria-describedby": hintId, ...rest }, value ?? "");
  } else {
    control = h("input", { id, name, type, value: value ?? "", required, "aria-describedby": hintId, ...rest });
  }
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("div", { class: "hint", id: hintId }, hint) : null);
}

export function amountField(props) {
  return field({ type: "text", inputmode: "decimal", autocomplete: "off", pattern: "[0-9]+([.][0-9]{1,8})?", class: "amount-input", placeholder: "0.00", ...props });
}

export function checkbox({ label, name, checked, value = "true" }) {
  const id = nextId(name);
  return h("label", { class: "check", for: id }, h("input", { type: "checkbox", id, name, value, checked }), label);
}

// The form's fields as an object of trimmed strings (checkbox groups become arrays).
export function formValues(form) {
  const values = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled) continue;
    if (element.type === "checkbox") {
      if (form.querySelectorAll(`input[type=checkbox][name="${element.name}"]`).length > 1) {
        values[element.name] ??= [];
        if (element.checked) values[element.name].push(element.value);
      } else values[element.name] = element.checked;
    } else if (element.type === "radio") {
      if (element.checked) values[element.name] = element.value;
    } else if (element.type !== "file" && element.type !== "submit" && element.type !== "button") {
      values[element.name] = element.value.trim();
    }
  }
  return values;
}

// Drops empty strings, so optional fields are left out of a request.
export function compact(values) {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== "" && value !== null && value !== undefined));
}

// An error shown in a live region: the friendly message, the server's detail, field errors.
export function errorBox(error, { titleText } = {}) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    return h("div", { class: "alert error", role: "alert" }, h("div", { class: "title" }, titleText || "Something went wrong."), String(error?.message || error));
  }
  const fieldErrors = error.errors.map((item) => {
    const where = fieldOf(item.loc);
    const message = plainFieldMessage(item.msg);
    return h("li", {}, where ? `${where}: ${message}` : message);
  });
  // One clear message: ours for a code we know (the server's detail is for its logs), the
  // server's own words only for a code we do not, or a rule with no field to point at.
  let heading = titleText || error.message;
  let detail = null;
  if (error.code === "validation_error" && !fieldErrors.length && error.detail) heading = titleText || sentence(plainFieldMessage(error.detail));
  else if (!knownCode(error.code) && error.detail && error.detail !== error.message) detail = h("div", { class: "detail" }, sentence(error.detail));
  const note = noteFor(error.code, error.problem);
  return h(
    "div",
    { class: "alert error", role: "alert", dataset: { code: error.code } },
    h("div", { class: "title" }, heading),
    note ? h("div", { class: "detail" }, note) : null,
    detail,
    fieldErrors.length ? h("ul", {}, fieldErrors) : null,
  );
}

function sentence(text) {
  const trimmed = String(text).trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

// An error left from an earlier submit goes when the browser's own check stops the next one.
document.addEventListener(
  "invalid",
  (event) => {
    const scope = event.target.form?.closest("main, dialog, .auth-card");
    for (const box of scope ? scope.querySelectorAll(".alert.error") : []) box.remove();
  },
  true,
);

// Marks the inputs a validation error points at, so the user sees which field to fix.
export function markInvalid(form, error) {
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  if (!(error instanceof ApiError)) return;
  for (const item of error.errors) {
    const name = (item.loc || []).filter((part) => part !== "body").at(-1);
    const element = name && form.elements.namedItem(name);
    if (element && element.setAttribute) element.setAttribute("aria-invalid", "true");
  }
}

export function okBox(...children) {
  return h("div", { class: "alert ok", role: "status" }, ...children);
}

export function toast(message, kind = "") {
  const host = document.getElementById("toasts");
  const node = h("div", { class: `toast ${kind}`.trim() }, message);
  host.append(node);
  setTimeout(() => node.remove(), 5000);
}

export function loading(text = "Loading…") {
  return h("p", { class: "loading", role: "status" }, text);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

export function card(...children) {
  return h("section", { class: "card" }, ...children);
}

export function stat(label, value, sub) {
  return h("div", { class: "card stat" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), sub ? h("div", { class: "sub" }, sub) : null);
}

// A table: columns [{key, label, num, render(row) -> Node|string, sort}], rows [...].
export function table({ columns, rows, caption, emptyText = "Nothing to show.", sort, onSort, rowProps }) {
  if (!rows.length) return empty(emptyText);
  columns = columns.filter(Boolean); // a column may be left out (null) for some callers
  const head = h(
    "tr",
    {},
    columns.map((column) => {
      const props = { scope: "col", class: [column.num ? "num" : "", column.cls || ""].join(" ").trim() || undefined };
      if (column.sort && onSort) {
        const active = sort && sort.replace(/^-/, "") === column.sort;
        props["aria-sort"] = active ? (sort.startsWith("-") ? "descending" : "ascending") : "none";
        const next = active && !sort.startsWith("-") ? `-${column.sort}` : column.sort;
        return h("th", props, h("button", { type: "button", class: "sort", onclick: () => onSort(next) }, column.label));
      }
      return h("th", props, column.label);
    }),
  );
  const body = rows.map((row) =>
    h(
      "tr",
      rowProps ? rowProps(row) : {},
      columns.map((column) => {
        const value = column.render ? column.render(row) : row[column.key];
        if (value instanceof Node && value.tagName === "TD") return value;
        return h("td", { class: [column.num ? "num" : "", column.cls || ""].join(" ").trim() || undefined }, value ?? "—");
      }),
    ),
  );
  return h("div", { class: "table-wrap" }, h("table", {}, caption ? h("caption", { class: "visually-hidden" }, caption) : null, h("thead", {}, head), h("tbody", {}, body)));
}

// Tabs with the ARIA tab pattern: arrow keys move between tabs.
export function tabs(items, { label, selected = 0, onChange } = {}) {
  const listId = nextId("tabs");
  const buttons = [];
  const panels = [];
  const select = (index, focus = false) => {
    buttons.forEach((button, i) => {
      button.setAttribute("aria-selected", String(i === index));
      button.tabIndex = i === index ? 0 : -1;
      panels[i].hidden = i !== index;
    });
    if (focus) buttons[index].focus();
    onChange?.(index);
  };
  items.forEach((item, index) => {
    const tabId = `${listId}-tab-${index}`;
    const panelId = `${listId}-panel-${index}`;
    buttons.push(
      h("button", {
        type: "button", role: "tab", id: tabId, "aria-controls": panelId,
        onclick: () => select(index),
        onkeydown: (event) => {
          const delta = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
          if (delta) select((index + delta + items.length) % items.length, true);
        },
      }, item.label),
    );
    panels.push(h("div", { role: "tabpanel", id: panelId, "aria-labelledby": tabId, tabindex: 0 }, item.content));
  });
  const root = h("div", {}, h("div", { class: "tabs", role: "tablist", "aria-label": label }, buttons), panels);
  select(selected);
  return { root, select };
}

// A confirmation dialog with a required reason; resolves to the reason or null.
export function askReason({ heading, label = "Reason", confirm = "Confirm", danger = false, extra }) {
  return new Promise((resolve) => {
    const form = h(
      "form",
      { method: "dialog", class: "stack" },
      h("h2", {}, heading),
      extra || null,
      field({ label, name: "reason", type: "textarea", required: true, maxlength: 500 }),
      h(
        "div",
        { class: "row" },
        h("button", { class: `btn ${danger ? "danger" : "primary"}`, type: "submit", value: "ok" }, confirm),
        h("button", { class: "btn", type: "button", onclick: () => dialog.close("cancel") }, "Cancel"),
      ),
    );
    const dialog = h("dialog", { "aria-label": heading }, form);
    dialog.addEventListener("close", () => {
      const reason = form.elements.reason.value.trim();
      dialog.remove();
      resolve(dialog.returnValue === "ok" && reason ? reason : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    form.elements.reason.focus();
  });
}

// Runs an async submit with the button disabled and the outcome written into `out`.
export async function submitting(form, out, work) {
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((button) => (button.disabled = true));
  clear(out);
  try {
    const result = await work();
    markInvalid(form, null);
    return result;
  } catch (error) {
    markInvalid(form, error);
    clear(out, errorBox(error));
    return undefined;
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
}
