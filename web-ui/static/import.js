// 导入: the official roster xlsx (+ photos zip), all-or-nothing, with the error table.
import { api, apiUrl } from "./api.js";
import { busy, showNotice } from "./core.js";
import { add, h, clear, field, table } from "./dom.js";

export function renderImport(page) {
  const roster = h("input", { type: "file", id: "import-roster", accept: ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", required: true });
  const photos = h("input", { type: "file", id: "import-photos", accept: ".zip,application/zip" });
  const submit = h("button", { type: "submit", class: "btn", id: "import-submit" }, "上传并导入");
  const out = h("div", { id: "import-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "imp-h" },
    h("h2", { id: "imp-h" }, "上传花名册"),
    field("花名册（xlsx，使用官方模板）", roster),
    field("照片（可选，zip 压缩包，文件名为「公民身份号码.jpg」）", photos),
    h("div", { class: "actions" }, submit, h("a", { href: apiUrl("templates/roster.xlsx"), download: "" }, "下载空白花名册模板")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, "正在导入…", async () => {
      if (!roster.files || !roster.files.length) throw new Error("请选择花名册文件");
      const data = new FormData();
      data.append("roster", roster.files[0]);
      if (photos.files && photos.files.length) data.append("photos", photos.files[0]);
      clear(out);
      try {
        const r = await api("POST", "import", data);
        add(out, 
          h(
            "div",
            { class: "panel" },
            h("h2", null, `✔ 已导入 ${r.imported} 条申领`),
            h("p", null, "每一行已作为申领提交省级平台审批；批准后的证件同步回本站，出现在「制证」的待制证列表中。"),
          ),
        );
        showNotice(`已导入 ${r.imported} 条申领，已提交审批`);
      } catch (err) {
        const errors = (err.body && err.body.errors) || [];
        if (errors.length || (err.body && err.body.report)) {
          add(out, 
            h(
              "section",
              { class: "panel", "aria-labelledby": "imp-err-h", id: "import-errors" },
              h("h2", { id: "imp-err-h" }, `✖ 未导入：${errors.length} 处错误`),
              err.body.report ? h("p", null, h("a", { href: err.body.report.replace(/^\//, ""), download: "" }, "下载错误报告（xlsx）")) : null,
              table(null, ["工作表", "行", "列", "原因"], errors.map((x) => h("tr", null, h("td", null, x.sheet || "—"), h("td", null, x.row ?? "—"), h("td", null, x.column || "—"), h("td", null, x.reason)))),
            ),
          );
        }
        throw err;
      }
    });
  });
  add(page, 
    h("h1", { tabindex: "-1" }, "导入"),
    h("p", null, "用官方模板导入执法人员申领名单：每一行作为申领提交审批。整份文件全部通过校验才会导入；有任何错误时不导入任何数据，并列出每处错误。"),
    form,
    out,
  );
}
