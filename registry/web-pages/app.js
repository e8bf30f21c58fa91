// The shell: session, navigation by role, hash routes (#/queue, #/app?id=3).
import { ApiError, del, get, post, setUnauthenticatedHandler } from "./api.js";
import { clear, field, h } from "./dom.js";
import { renderApplication, renderList, renderQueue } from "./review.js";
import { renderForm } from "./unit.js";
import { renderAdmin, renderStats } from "./admin.js";

export const state = { me: null };

const REVIEWERS = ["county", "city", "province"];
/** Pages in navigation order; `roles` only decides the navigation (the server
 *  checks every request). */
const ROUTES = [
  { path: "queue", title: "待审核", roles: REVIEWERS, render: renderQueue },
  { path: "list", title: "申请", roles: ["unit", ...REVIEWERS], render: renderList, unitTitle: "本单位申请" },
  { path: "new", title: "新申请", roles: ["unit"], render: renderForm },
  { path: "stats", title: "统计", roles: REVIEWERS, render: renderStats },
  // The registry's administrator has an account of its own (role `admin`): it
  // keeps the lists and reviews nothing.
  { path: "admin", title: "系统管理", roles: ["admin"], render: renderAdmin },
];
const HIDDEN = [
  { path: "app", roles: ["unit", ...REVIEWERS], render: renderApplication },
  { path: "edit", roles: ["unit"], render: renderForm },
];

export function showError(e) {
  const el = document.getElementById("alert");
  el.textContent = e instanceof Error ? e.message : String(e);
}

export function notice(text) {
  document.getElementById("notice").textContent = text;
}

function clearMessages() {
  document.getElementById("alert").textContent = "";
  document.getElementById("notice").textContent = "";
}

/** A message to show once the next page is drawn (navigation clears messages). */
let pending = null;

export function go(path, message) {
  const target = `#/${path}`;
  pending = message || null;
  if (location.hash === target) routeThenNotice();
  else location.hash = target;
}

async function routeThenNotice() {
  await route();
  if (pending) notice(pending);
  pending = null;
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, q] = raw.split("?");
  return { path: path || "", params: new URLSearchParams(q || "") };
}

const allowed = (r) => state.me && r.roles.includes(state.me.role);

function renderShell() {
  const logged = Boolean(state.me);
  document.getElementById("nav").hidden = !logged;
  document.getElementById("session-box").hidden = !logged;
  const list = document.getElementById("nav-list");
  clear(list);
  if (!logged) return;
  const m = state.me;
  document.getElementById("session-user").textContent = `${m.org_name}（${m.role_label}）${m.username}`;
  const current = parseHash().path;
  for (const r of ROUTES.filter(allowed)) {
    const title = m.role === "unit" && r.unitTitle ? r.unitTitle : r.title;
    list.append(
      h("li", null, h("a", { href: `#/${r.path}`, "aria-current": r.path === current ? "page" : null }, title)),
    );
  }
}

function renderLogin(page) {
  const user = h("input", { type: "text", id: "login-username", autocomplete: "username", required: true });
  const pass = h("input", { type: "password", id: "login-password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    {
      class: "panel login",
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearMessages();
        try {
          state.me = await api_login(user.value, pass.value);
          pass.value = "";
          go(first());
        } catch (e) {
          showError(e);
        }
      },
    },
    h("h1", null, "登录"),
    field("用户名", user),
    field("密码", pass),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit", id: "login-submit" }, "登录")),
  );
  page.append(form);
  user.focus();
}

// The password goes in the request body only, never in a URL.
function api_login(username, password) {
  return post("session", { username, password });
}

function first() {
  const r = ROUTES.find(allowed);
  return r ? r.path : "login";
}

async function route() {
  const page = document.getElementById("page");
  const { path, params } = parseHash();
  clear(page);
  if (!state.me) {
    renderShell();
    renderLogin(page);
    return;
  }
  const r = [...ROUTES, ...HIDDEN].find((x) => x.path === path && allowed(x));
  if (!r) {
    go(first());
    return;
  }
  renderShell();
  try {
    await r.render(page, params);
  } catch (e) {
    showError(e);
    // A page that could not be drawn still says what it is (a page without a
    // level-one heading leaves a screen reader's user with no landmark to start
    // from); the reason is in the alert above it.
    if (!page.querySelector("h1")) page.prepend(h("h1", null, "无法显示此页面"));
  }
  const h1 = page.querySelector("h1");
  if (h1) {
    h1.setAttribute("tabindex", "-1");
  }
}

setUnauthenticatedHandler(() => {
  state.me = null;
  showError(new ApiError(401, { message: "登录已过期，请重新登录" }));
  go("login");
});

window.addEventListener("hashchange", () => {
  clearMessages();
  routeThenNotice();
});

document.getElementById("logout").addEventListener("click", async () => {
  try {
    await del("session");
  } catch (_e) {
    // Already ended.
  }
  state.me = null;
  clearMessages();
  go("login");
});

(async () => {
  try {
    state.me = await get("session", { quietAuth: true });
  } catch (_e) {
    state.me = null;
  }
  route();
})();
