// 本站申请: what this station sent to the registry (roster rows, 换证, 补证) and what
// it knows of each: 待审核 until the registry's approved order arrives, then 已批准.
// GET /applications.
import { get } from "./api.js";
import { busy } from "./core.js";
import { add, clear, h, table } from "./dom.js";

export function renderApplications(page) {
  const out = h("div", { id: "applications-list", "aria-live": "polite" });
  const reload = h("button", { type: "button", class: "btn btn-secondary", id: "applications-reload" }, "刷新");
  async function load() {
    const rows = await get("applications");
    clear(out);
    if (!rows.length) {
      add(out, h("p", { class: "muted" }, "本站还没有向登记中心提交申请。"));
      return;
    }
    add(
      out,
      table(
        "本站申请",
        ["编号", "类型", "姓名", "执法单位", "原证号", "状态", "提交时间"],
        rows.map((r) =>
          h(
            "tr",
            { "data-state": r.state },
            h("td", null, `#${r.id}`),
            h("td", null, r.kind_label),
            h("td", null, r.name),
            h("td", null, r.unit),
            h("td", null, r.follows_number || "—"),
            h("td", null, r.state_label, r.reason ? h("div", { class: "muted" }, `原因：${r.reason}`) : null),
            h("td", null, r.created_at.slice(0, 16).replace("T", " ")),
          ),
        ),
      ),
    );
  }
  reload.addEventListener("click", () => busy(reload, "正在刷新…", load));
  add(
    page,
    h("h1", { tabindex: "-1" }, "本站申请"),
    h("p", null, "新申领、换证、补证均由县级司法局初审、市级司法局复审，登记中心编号；批准结果同步回本站后在「制证」中写卡。"),
    h("div", { class: "actions" }, reload),
    out,
  );
  busy(reload, "正在加载…", load);
}
