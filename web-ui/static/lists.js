// 待办提醒: what the station's people must act on, from the station's own records —
// overdue items (注销/换证/补证 not filed with the bureau within 3 working days, and
// reviews past their deadline), the 注销/换证/补证 still to be filed, certificates
// expiring within N days (default 90) and holders retiring within the year.
// GET /lists/overdue, /lists/filings, /lists/expiring?days=N, /lists/retiring.
import { get } from "./api.js";
import { busy } from "./core.js";
import { add, clear, field, h, table } from "./dom.js";

const section = (id, title, intro) => {
  const out = h("div", { id: `${id}-out`, "aria-live": "polite" });
  const el = h("section", { class: "panel", id, "aria-labelledby": `${id}-h` }, h("h2", { id: `${id}-h` }, title), intro ? h("p", { class: "muted" }, intro) : null, out);
  return { el, out };
};

const recordLink = (id, text) => h("a", { href: `#/records?id=${id}` }, text);

export function renderLists(page) {
  const overdue = section("lists-overdue", "逾期事项", "超过 3 个工作日仍未报送登记中心的注销、换证、补证，以及超过年审截止日仍未年审的证件。");
  const filings = section("lists-filings", "待报送的注销/换证/补证", "「在 3 个工作日内向市司法局办理注销、换发、补发手续」：从情形发生之日起算，报送登记中心后自动销项。");
  const expiring = section("lists-expiring", "即将到期的证件");
  const retiring = section("lists-retiring", "一年内退休的持证人", "按本省退休年龄规则由身份证号码推算；证件有效期至退休之日止。");

  const days = h("input", { type: "number", id: "lists-days", value: "90", min: "1", max: "3650", required: true });
  const daysBtn = h("button", { type: "submit", class: "btn btn-secondary", id: "lists-days-submit" }, "查询");
  const daysForm = h("form", { class: "row inline", id: "lists-days-form" }, field("天数（默认 90 天）", days), daysBtn);
  expiring.el.insertBefore(daysForm, expiring.out);

  const reload = h("button", { type: "button", class: "btn btn-secondary", id: "lists-reload" }, "刷新");

  async function loadOverdue() {
    const v = await get("lists/overdue");
    clear(overdue.out);
    if (!v.items.length) return add(overdue.out, h("p", { class: "muted" }, "没有逾期事项。"));
    add(overdue.out, table("逾期事项", ["事项", "证号", "姓名", "执法单位", "期限", "说明"], v.items.map((i) => h(
      "tr",
      { "data-what": i.what, "data-certificate": i.certificate_id },
      h("td", null, "⚠ ", i.what === "review" ? `${i.year} 年度年审` : i.kind_label),
      h("td", null, recordLink(i.certificate_id, i.number)),
      h("td", null, i.name),
      h("td", null, i.unit),
      h("td", null, i.what === "review" ? i.deadline : i.due_on),
      h("td", null, i.what === "review" ? "逾期未年审" : `已逾期 ${-i.working_days_left} 个工作日，尚未报送登记中心`),
    ))));
  }

  async function loadFilings() {
    const v = await get("lists/filings");
    clear(filings.out);
    if (!v.items.length) return add(filings.out, h("p", { class: "muted" }, "没有待报送的注销、换证、补证。"));
    add(filings.out, table("待报送的注销/换证/补证", ["类型", "证号", "姓名", "执法单位", "记录日期", "报送期限", "状态"], v.items.map((i) => h(
      "tr",
      { "data-overdue": i.overdue ? "yes" : "no", "data-certificate": i.certificate_id },
      h("td", null, i.kind_label),
      h("td", null, recordLink(i.certificate_id, i.number)),
      h("td", null, i.name),
      h("td", null, i.unit),
      h("td", null, i.recorded_on),
      h("td", null, i.due_on),
      h("td", null, i.overdue ? `⚠ 逾期 ${-i.working_days_left} 个工作日` : `剩余 ${i.working_days_left} 个工作日`),
    ))));
  }

  async function loadExpiring() {
    const n = Number(days.value);
    if (!Number.isInteger(n) || n < 1 || n > 3650) throw new Error("天数应在 1 到 3650 之间");
    const v = await get(`lists/expiring?days=${n}`);
    clear(expiring.out);
    if (!v.items.length) return add(expiring.out, h("p", { class: "muted" }, `${v.days} 天内没有到期的证件。`));
    add(expiring.out, table(`${v.days} 天内到期的证件`, ["证号", "姓名", "执法单位", "有效期至", "剩余天数"], v.items.map((i) => h(
      "tr",
      { "data-certificate": i.certificate_id },
      h("td", null, recordLink(i.certificate_id, i.number)),
      h("td", null, i.name),
      h("td", null, i.unit),
      h("td", null, i.valid_until),
      h("td", null, String(i.days_left)),
    ))));
  }

  async function loadRetiring() {
    const v = await get("lists/retiring");
    clear(retiring.out);
    if (!v.items.length) return add(retiring.out, h("p", { class: "muted" }, `${v.until} 前没有到达退休年龄的持证人。`));
    add(retiring.out, table(`${v.until} 前退休的持证人`, ["证号", "姓名", "执法单位", "退休日期"], v.items.map((i) => h(
      "tr",
      { "data-certificate": i.certificate_id },
      h("td", null, recordLink(i.certificate_id, i.number)),
      h("td", null, i.name),
      h("td", null, i.unit),
      h("td", null, i.retires_on),
    ))));
  }

  const loadAll = () => Promise.all([loadOverdue(), loadFilings(), loadExpiring(), loadRetiring()]);
  reload.addEventListener("click", () => busy(reload, "正在刷新…", loadAll));
  daysForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(daysBtn, "正在查询…", loadExpiring);
  });
  add(
    page,
    h("h1", { tabindex: "-1" }, "待办提醒"),
    h("p", null, "本站需要处理的事项：逾期未办、待报送、即将到期和即将退休。"),
    h("div", { class: "actions" }, reload),
    overdue.el,
    filings.el,
    expiring.el,
    retiring.el,
  );
  busy(reload, "正在加载…", loadAll);
}
