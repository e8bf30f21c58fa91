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

export const KIND = {
  enforcement: "行政执法证",
  entrusted: "委托行政执法证",
  supervision: "行政执法监督证",
};
export const GENDER = { male: "男", female: "女" };
export const REVIEW_RESULT = { passed: "合格", failed: "不合格" };
export const JOB_STATE = {
  queued: "排队中",
  writing: "正在写卡",
  written: "已写入",
  verified: "已写入并核验",
  interrupted: "已中断",
  failed: "失败",
  cancelled: "已取消",
};
export const CERT_STATE = {
  approved: "待制证",
  issued: "已制证",
  suspended: "已暂停",
  cancelled: "已注销",
  void: "已作废",
  replaced: "已换补",
};
export const CARD_STATUS = {
  active: "正常",
  suspended: "已暂停",
  revoked: "已注销",
  cancelled: "已注销",
  terminated: "已注销（应用已终止）",
};
export const STATUS_KIND = {
  suspend: "暂停",
  lift: "恢复",
  cancel: "注销",
  replace: "换证",
  reissue: "补证",
};
export const OUTCOME = {
  passed: ["✔", "通过"],
  warning: ["⚠", "警告"],
  failed: ["✖", "未通过"],
  pending: ["…", "待完成"],
};
export const STANDING = {
  valid: ["✔", "有效", "证件真实、有效"],
  invalid: ["✖", "无效", "证件未通过真伪或完整性核验"],
  revoked: ["⊘", "已注销", "证件已被注销，不得用于执法"],
  suspended: ["⏸", "已暂停", "证件处于暂停状态，不得用于执法"],
  expired: ["⌛", "已过期", "证件已超过有效期"],
  not_yet_valid: ["◷", "尚未生效", "证件尚未到生效日期"],
  review_overdue: ["⚠", "年审逾期", "证件未按期年审"],
};

export function label(map, key) {
  if (key === null || key === undefined) return "—";
  const v = map[key];
  if (v === undefined) return String(key);
  return Array.isArray(v) ? v[1] : v;
}
