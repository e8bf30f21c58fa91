// 报送表格: the four filing forms (附件1–4) of one 填报单位 for a date range, as xlsx,
// and the 申领人员名单 to print, stamp and hand to the justice bureau (Sichuan: review
// starts only with it). GET /forms (units), /forms/{file}?unit=…, /forms/applicants.
import { apiUrl, get } from "./api.js";
import { busy, showError } from "./core.js";
import { add, clear, field, h, table, today } from "./dom.js";

const FORMS = [
  ["filing", "附件1 人员数据录入归集、注销、修改备案表"],
  ["cancellation", "附件2 证件注销表"],
  ["replacement", "附件3 证件换证表"],
  ["reissue", "附件4 证件补发表"],
];

export function renderForms(page) {
  const unit = h("select", { id: "forms-unit", required: true }, h("option", { value: "" }, "请选择填报单位"));
  const to = h("input", { type: "date", id: "forms-to", value: today() });
  const from = h("input", { type: "date", id: "forms-from" });
  const phone = h("input", { type: "text", inputmode: "tel", autocomplete: "tel", id: "forms-phone", maxlength: "30" });
  const d = new Date(`${today()}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 31);
  from.value = d.toISOString().slice(0, 10);
  const links = h("ul", { id: "forms-links" });
  const query = () => {
    const q = new URLSearchParams({ unit: unit.value, from: from.value, to: to.value });
    if (phone.value.trim()) q.set("phone", phone.value.trim());
    return q.toString();
  };
  const syncLinks = () => {
    clear(links);
    if (!unit.value) return add(links, h("li", { class: "muted" }, "选择填报单位后可下载本单位的表格。"));
    for (const [file, title] of FORMS) {
      add(links, h("li", null, h("a", { href: apiUrl(`forms/${file}.xlsx?${query()}`), download: "", "data-form": file }, `${title}（xlsx）`)));
    }
  };
  for (const el of [unit, from, to, phone]) el.addEventListener("change", syncLinks);

  const show = h("button", { type: "button", class: "btn", id: "forms-applicants-show" }, "生成申领人员名单");
  const sheet = h("div", { id: "applicants-sheet", "aria-live": "polite" });
  show.addEventListener("click", () =>
    busy(show, "正在生成…", async () => {
      if (!unit.value) throw new Error("请选择填报单位");
      const v = await get(`forms/applicants?unit=${encodeURIComponent(unit.value)}`);
      clear(sheet);
      const print = h("button", { type: "button", class: "btn btn-secondary no-print", id: "forms-applicants-print" }, "打印");
      print.addEventListener("click", () => window.print());
      add(
        sheet,
        h(
          "article",
          { class: "panel printable", "aria-labelledby": "applicants-h" },
          h("h2", { id: "applicants-h" }, "行政执法证申领人员名单"),
          h("p", null, `填报单位（盖章）：${v.unit}`),
          h("p", null, `报送：${v.bureau || "司法局"}　　日期：${v.date}`),
          v.items.length
            ? table(
                null,
                ["序号", "姓名", "性别", "身份证号码", "申领类型", "原证号", "提交日期"],
                v.items.map((a, i) =>
                  h(
                    "tr",
                    { "data-application": a.id },
                    h("td", null, String(i + 1)),
                    h("td", null, a.name),
                    h("td", null, a.gender),
                    h("td", null, a.id_number),
                    h("td", null, a.kind_label),
                    h("td", null, a.follows_number || "—"),
                    h("td", null, a.submitted_on),
                  ),
                ),
              )
            : h("p", { class: "muted" }, "本单位没有待审核的申请。"),
          h("p", null, `共 ${v.items.length} 人。以上人员信息已核对无误。`),
          h("p", null, "单位负责人（签字）：＿＿＿＿＿＿　　经办人：＿＿＿＿＿＿　　联系电话：＿＿＿＿＿＿"),
          h("div", { class: "actions no-print" }, print),
        ),
      );
    }),
  );

  add(
    page,
    h("h1", { tabindex: "-1" }, "报送表格"),
    h("p", null, "按填报单位生成报送司法局的表格（附件1–4），以及盖章报送的申领人员名单。"),
    h(
      "form",
      { class: "panel no-print", id: "forms-form", "aria-labelledby": "forms-h", onsubmit: (e) => e.preventDefault() },
      h("h2", { id: "forms-h" }, "填报单位与期间"),
      field("填报单位", unit),
      field("起始日期", from),
      field("结束日期", to),
      field("联系电话（可选）", phone),
      links,
      h("div", { class: "actions" }, show),
    ),
    sheet,
  );
  syncLinks();
  get("forms")
    .then((v) => {
      add(unit, v.items.map((u) => h("option", { value: u }, u)));
    })
    .catch(showError);
}
