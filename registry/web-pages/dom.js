// Small DOM helpers: nothing is ever shown as "null" or "undefined".

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked" || k === "disabled" || k === "selected") el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    else el.append(document.createTextNode(String(c)));
  }
}

let n = 0;
export function uid(p) {
  n += 1;
  return `${p}-${n}`;
}

export function field(label, control, hint) {
  if (!control.id) control.id = uid("f");
  const parts = [h("label", { for: control.id }, label)];
  if (hint) {
    control.setAttribute("aria-describedby", `${control.id}-hint`);
    parts.push(h("span", { class: "hint", id: `${control.id}-hint` }, hint));
  }
  return h("div", { class: "row" }, parts, control);
}

export function select(options, attrs) {
  return h("select", attrs, options.map(([value, text]) => h("option", { value }, text)));
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
    pairs.map(([k, v]) => [h("dt", null, k), h("dd", null, v === null || v === undefined || v === "" ? "—" : v)]),
  );
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** "2026-11-23T09:00:00.000Z" → "2026-11-23 09:00" (UTC as stored). */
export function when(stamp) {
  if (!stamp) return "—";
  return stamp.replace("T", " ").slice(0, 16);
}
