// Small DOM helpers and the labels every page shares.
import { state } from "./core.js";

/** h("button", {class: "btn", onclick: fn}, "文本", child…) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v);
      } else if (k === "class") {
        el.className = v;
      } else if (k === "dataset") {
        Object.assign(el.dataset, v);
      } else if (k === "value") {
        el.value = v;
      } else if (k === "checked" || k === "selected" || k === "disabled") {
        el[k] = Boolean(v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

/** Element.append that skips null/undefined/false (native append prints "null"). */
export function add(el, ...children) {
  append(el, children);
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    else el.append(document.createTextNode(String(c)));
  }
}

let idCounter = 0;
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled field: <div class=row><label for=id>…</label><input id=id …></div> */
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid("f");
  const parts = [h("label", { for: control.id }, labelText)];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("span", { class: "hint", id: hintId }, hint));
  }
  return h("div", { class: "row" }, parts, control);
}

export function checkbox(labelText, attrs) {
  const input = h("input", { type: "checkbox", id: uid("c"), ...attrs });
  return { input, el: h("label", { class: "choice", for: input.id }, input, labelText) };
}

export function radio(name, value, labelText, checked) {
  const input = h("input", { type: "radio", name, value, id: uid("r"), checked });
  return h("label", { class: "choice", for: input.id }, input, labelText);
}

export function select(options, attrs) {
  return h(
    "select",
    attrs,
    options.map(([value, text]) => h("option", { value }, text)),
  );
}

export function table(caption, headers, rows, attrs) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      attrs,
      caption ? h("caption", null, caption) : null,
      h("thead", null, h("tr", null, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, rows),
    ),
  );
}

export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [h("dt", null, k), h("dd", null, v === null || v === "" ? "—" : v)]),
  );
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** The station's date (YYYY-MM-DD) from the session: the station's one clock
 *  decides what "today" is, not the browser's. */
export function today() {
  if (state.session && state.session.today) return state.session.today;
  const d = new Date();
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// The words for every code come from the station (GET /api/v1/labels, loaded once
// after login into state.labels): one vocabulary, made in ecardd's labels module.
// Only symbols live here.
export const STANDING_ICON = {
  valid: "✔",
  invalid: "✖",
  revoked: "⊘",
  suspended: "⏸",
  expired: "⌛",
  not_yet_valid: "◷",
  review_overdue: "⚠",
  review_failed: "✖",
  unconfirmed: "?",
};
export const OUTCOME_ICON = { passed: "✔", warning: "⚠", failed: "✖", pending: "…" };

/** The word for `code` in the station's vocabulary group (e.g. "certificate_state"). */
export function label(group, code) {
  if (code === null || code === undefined || code === "") return "—";
  const words = state.labels && state.labels[group];
  const word = words ? words[code] : undefined;
  return word === undefined ? String(code) : word;
}

/** A group's [code, word] pairs, in the station's order (for selects and radios). */
export function labelEntries(group) {
  return Object.entries((state.labels && state.labels[group]) || {});
}

/** Posts stored as codes ("01,02") in words: 依职权、依申请. */
export function postsLabel(posts) {
  if (!posts) return "—";
  return String(posts)
    .split(/[,，、;\s]+/)
    .filter(Boolean)
    .map((p) => label("post", p.padStart(2, "0")))
    .join("、");
}
