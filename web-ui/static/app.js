// The shell: session, navigation by role, hash routes (#/verify, #/records?id=3).
import { ApiError, del, get, post, setUnauthenticatedHandler } from "./api.js";
import { busy, can, clearMessages, connectEvents, disconnectEvents, loadLabels, showError, state } from "./core.js";
import { add, h, clear, field } from "./dom.js";
import { renderReaders } from "./readers.js";
import { renderIssue } from "./issue.js";
import { renderVerify } from "./verify.js";
import { renderReview } from "./review.js";
import { renderStatus } from "./status.js";
import { renderImport } from "./import.js";
import { renderRecords } from "./records.js";
import { renderApplications } from "./applications.js";
import { renderSettings } from "./settings.js";
import { renderLists } from "./lists.js";
import { renderForms } from "./forms.js";

/**
 * Pages in navigation order. `perms`: any of them opens the page (the server checks
 * each request anyway). `probe`: a harmless GET the server refuses without the
 * permission, so a refused page shows the server's own answer.
 */
const ROUTES = [
  { path: "readers", title: "读卡器", perms: ["read_readers"], render: renderReaders, probe: "readers" },
  { path: "issue", title: "制证", perms: ["issue"], render: renderIssue, probe: "jobs?state=interrupted" },
  { path: "verify", title: "验证", perms: ["verify"], render: renderVerify },
  { path: "review", title: "年审", perms: ["review"], render: renderReview },
  { path: "status", title: "注销/暂停/恢复/换补证", perms: ["change_status"], render: renderStatus },
  { path: "import", title: "导入", perms: ["import"], render: renderImport },
  { path: "applications", title: "本站申请", perms: ["view_records"], render: renderApplications, probe: "applications" },
  { path: "lists", title: "待办提醒", perms: ["view_records"], render: renderLists, probe: "lists/overdue" },
  { path: "forms", title: "报送表格", perms: ["view_records"], render: renderForms, probe: "forms" },
  { path: "records", title: "记录", perms: ["view_records", "view_audit"], render: renderRecords, probe: "certificates" },
  { path: "settings", title: "设置", perms: ["manage_keys", "manage_operators", "manage_trust"], render: renderSettings, probe: "settings" },
];

const allowed = (route) => route.perms.some(can);

let pageScope = null;
let returnTo = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query] = raw.split("?");
  return { path: path || "", params: new URLSearchParams(query || "") };
}

function go(path) {
  const target = `#/${path}`;
  if (location.hash === target) route();
  else location.hash = target;
}

function firstAllowed() {
  const r = ROUTES.find(allowed);
  return r ? r.path : "login";
}

function renderShell() {
  const logged = Boolean(state.session);
  document.getElementById("nav").hidden = !logged;
  document.getElementById("session-box").hidden = !logged;
  const list = document.getElementById("nav-list");
  clear(list);
  if (!logged) return;
  const s = state.session;
  document.getElementById("session-user").textContent = s.display_name.includes(s.role_label)
    ? `${s.display_name} · ${s.username}`
    : `${s.display_name} · ${s.role_label}`;
  for (const r of ROUTES.filter(allowed)) {
    add(list, h("li", null, h("a", { href: `#/${r.path}`, "data-route": r.path }, r.title)));
  }
}

function markNav(path) {
  for (const a of document.querySelectorAll("#nav-list a")) {
    if (a.dataset.route === path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function startPage(title) {
  if (pageScope) pageScope.abort();
  pageScope = new AbortController();
  const page = document.getElementById("page");
  clear(page);
  clearMessages();
  document.title = `${title} - 行政执法证工作站`;
  return { page, signal: pageScope.signal };
}

function focusHeading(page) {
  const h1 = page.querySelector("h1");
  if (h1) {
    h1.setAttribute("tabindex", "-1");
    h1.focus();
  }
}

function renderLogin(message) {
  const { page } = startPage("登录");
  markNav("");
  const user = h("input", { type: "text", id: "login-username", autocomplete: "username", required: true });
  const pass = h("input", { type: "password", id: "login-password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "btn", id: "login-submit" }, "登录");
  const form = h(
    "form",
    { class: "panel login", "aria-labelledby": "login-h" },
    h("h1", { id: "login-h", tabindex: "-1" }, "登录"),
    h("p", null, "请使用本站分配的操作员账户登录。"),
    field("用户名", user),
    field("密码", pass),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, "正在登录…", async () => {
      const s = await post("session", { username: user.value.trim(), password: pass.value }, { quietAuth: true });
      await startSession(s);
    });
  });
  add(page, form);
  if (message) showError(message);
  user.focus();
}

/** Whether `hashPath` ("records?id=3") names a page the current session may open. */
function mayReturnTo(hashPath) {
  if (!hashPath) return false;
  const r = ROUTES.find((x) => x.path === hashPath.split("?")[0]);
  return Boolean(r && allowed(r));
}

async function startSession(session) {
  state.session = session;
  await loadLabels();
  renderShell();
  connectEvents();
  // Back to the page the session expired on, but only if this account may open it:
  // a different operator logging in at the same screen starts on their own first page.
  const target = mayReturnTo(returnTo) ? returnTo : firstAllowed();
  returnTo = null;
  go(target);
}

/**
 * `keepPlace`: remember the current page to return to after the next login (the
 * session expired under the user); an explicit logout forgets it.
 */
function endSession(message, { keepPlace = false } = {}) {
  state.session = null;
  state.readers = [];
  returnTo = null;
  disconnectEvents();
  renderShell();
  if (location.hash !== "#/login") {
    const { path } = parseHash();
    if (keepPlace && path && path !== "login") returnTo = location.hash.replace(/^#\/?/, "");
    history.replaceState(null, "", "#/login");
  }
  renderLogin(message);
}

async function renderRefusal(r, page) {
  add(page, 
    h("h1", { tabindex: "-1" }, r.title),
    h(
      "div",
      { class: "refusal", id: "refusal" },
      h("p", null, h("strong", null, "✖ 无权访问："), `当前账户（${state.session.role_label}）不能使用「${r.title}」页面。`),
      h("p", null, "如需使用，请联系管理员调整账户角色。"),
    ),
  );
  if (r.probe) {
    try {
      await get(r.probe);
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) showError(e);
    }
  }
}

function route() {
  const { path, params } = parseHash();
  if (!state.session) {
    if (path && path !== "login") returnTo = location.hash.replace(/^#\/?/, "");
    renderLogin();
    return;
  }
  if (path === "login" || path === "") {
    go(firstAllowed());
    return;
  }
  const r = ROUTES.find((x) => x.path === path);
  if (!r) {
    const { page } = startPage("未找到");
    add(page, h("h1", { tabindex: "-1" }, "未找到页面"), h("p", null, h("a", { href: `#/${firstAllowed()}` }, "返回首页")));
    focusHeading(page);
    return;
  }
  const { page, signal } = startPage(r.title);
  markNav(r.path);
  if (!allowed(r)) {
    renderRefusal(r, page);
    focusHeading(page);
    return;
  }
  try {
    r.render(page, { signal, params });
  } catch (e) {
    showError(e);
  }
  focusHeading(page);
}

async function boot() {
  setUnauthenticatedHandler(() => {
    if (state.session) endSession("登录已过期或已退出，请重新登录", { keepPlace: true });
  });
  document.getElementById("logout").addEventListener("click", (e) => {
    busy(e.currentTarget, "正在退出…", async () => {
      try {
        await del("session", { quietAuth: true });
      } finally {
        endSession();
      }
    });
  });
  window.addEventListener("hashchange", route);
  try {
    state.session = await get("session", { quietAuth: true });
  } catch (e) {
    state.session = null;
    if (!(e instanceof ApiError && e.status === 401)) {
      renderShell();
      renderLogin(e);
      return;
    }
  }
  if (state.session) {
    try {
      await loadLabels();
    } catch (e) {
      showError(e);
    }
  }
  renderShell();
  if (state.session) connectEvents();
  route();
}

boot();
