// The province's overview and the statistics.
import { enc, get, post } from "./api.js";
import { facts, h, table, when } from "./dom.js";
import { notice, showError } from "./app.js";

export async function renderAdmin(page) {
  const o = await get("admin/overview");
  page.append(h("h1", null, "系统管理"));
  page.append(h("h2", null, "单位"));
  page.append(
    table(
      null,
      ["单位名称", "地区代码", "部门代码", "审核层级"],
      o.units.map((u) => h("tr", null, h("td", null, u.name), h("td", null, u.region), h("td", null, u.department), h("td", null, u.review_path))),
      { id: "units" },
    ),
  );
  page.append(h("h2", null, "账号"));
  page.append(
    table(
      null,
      ["用户名", "角色", "机关", "单位", "辖区", "页面登录"],
      o.accounts.map((a) =>
        h("tr", null, h("td", null, a.username), h("td", null, a.role_label), h("td", null, a.org_name), h("td", null, a.unit_name || "—"), h("td", null, a.region || "—"), h("td", null, a.can_log_in ? "已设置口令" : "未设置口令")),
      ),
      { id: "accounts" },
    ),
  );
  page.append(h("h2", null, "工作站"));
  const render = () => renderAgain(page);
  page.append(
    table(
      null,
      ["站点", "服务地区", "已接收事件", "状态", "登记时间", "操作"],
      o.stations.map((s) =>
        h(
          "tr",
          { "data-station": s.id },
          h("td", null, s.id),
          h("td", null, s.region || "全部"),
          h("td", null, String(s.last_applied_seq)),
          h("td", null, s.disabled ? h("span", { class: "tag tag-bad" }, "已停用") : h("span", { class: "tag tag-ok" }, "启用")),
          h("td", null, when(s.created_at)),
          h(
            "td",
            null,
            h(
              "button",
              {
                class: "btn btn-small btn-secondary",
                type: "button",
                onclick: async () => {
                  try {
                    await post(`admin/stations/${enc(s.id)}/enabled`, { enabled: s.disabled });
                    await render();
                    notice(s.disabled ? `已启用站点 ${s.id}。` : `已停用站点 ${s.id}。`);
                  } catch (e) {
                    showError(e);
                  }
                },
              },
              s.disabled ? "启用" : "停用",
            ),
          ),
        ),
      ),
      { id: "stations" },
    ),
  );
  page.append(h("h2", null, "信任列表"));
  page.append(h("p", { class: "muted" }, "信任列表由省级根证书离线签名后发布（ecard-registry trust-list），此处只读。"));
  if (o.trust_list) {
    page.append(facts([["编号", String(o.trust_list.number)], ["发布时间", when(o.trust_list.published_at)], ["签名根证书", o.trust_list.signed_by], ["已撤销的签发者", String(o.trust_list.revoked_signers)]]));
    page.append(
      table(
        null,
        ["名称", "密钥标识", "有效期起", "有效期至"],
        o.trust_list.anchors.map((a) => h("tr", null, h("td", null, a.name), h("td", null, a.key_id), h("td", null, a.valid_from), h("td", null, a.valid_until))),
        { id: "anchors" },
      ),
    );
  } else {
    page.append(h("p", null, o.trust_list_problem || "尚未发布信任列表。"));
  }
  page.append(h("h2", null, "吊销名单"));
  page.append(facts([["当前编号", String(o.revocation_list.number)], ["生成时间", o.revocation_list.issued_at ? when(o.revocation_list.issued_at) : "尚无"]]));
}

async function renderAgain(page) {
  while (page.firstChild) page.removeChild(page.firstChild);
  await renderAdmin(page);
}

export async function renderStats(page) {
  const s = await get("stats");
  page.append(h("h1", null, "统计"));
  page.append(facts([["等待审核", String(s.waiting)], ["已超期", String(s.overdue)]]));
  page.append(h("h2", null, "申请按状态和层级"));
  page.append(
    table(
      null,
      ["单位层级", "状态", "件数"],
      s.by_state.map((r) => h("tr", null, h("td", null, r.level_label), h("td", null, r.state_label), h("td", null, String(r.count)))),
      { id: "by-state" },
    ),
  );
  page.append(h("h2", null, "每月证件制发、年审、注销"));
  page.append(h("img", { class: "chart", src: "v1/stats/chart.svg", alt: "每月制发、年审、注销的证件数柱状图", width: 640, height: 300 }));
  page.append(
    s.per_unit_month.length
      ? table(
          null,
          ["月份", "单位", "制发", "年审", "注销"],
          s.per_unit_month.map((r) => h("tr", null, h("td", null, r.month), h("td", null, r.unit), h("td", null, String(r.issued)), h("td", null, String(r.reviewed)), h("td", null, String(r.cancelled)))),
          { id: "per-month" },
        )
      : h("p", null, "暂无制发、年审或注销记录。"),
  );
}
