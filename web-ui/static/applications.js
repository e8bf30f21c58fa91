// 本站申请: what this station sent to the registry (roster rows, 换证, 补证) and what
// it knows of each: 待审核, 退回 (with the bureau's reason), 已批准. The unit acts on
// them here (docs/API.md "本站申请"): 新增人员 by form (the roster's columns, the
// roster's checks), 修改后重新提交 one that came back, 补交照片 to one pending, and
// 申请退回 an approved one (the reviewing bureau does it, once).
// GET/POST /applications, GET/PUT /applications/{id}, POST …/photo, POST …/send-back.
import { get, post, put } from "./api.js";
import { busy, can, showError, showNotice } from "./core.js";
import { add, clear, field, h, table } from "./dom.js";

// The roster template's columns (ecard_domain::roster::COLUMNS) as the form's
// fields: the server's errors name the column, which marks the field.
const FIELDS = [
  ["county", "县(市、区)", true],
  ["name", "持证人姓名", true],
  ["unit", "所属执法主体或受委托组织名称", true],
  ["citizen_id", "持证人身份证号码", true],
  ["gender", "性别", false, "可留空，由身份证号码判别"],
  ["ethnicity", "民族", true],
  ["birth_date", "出生日期", false, "YYYY-MM-DD，可留空"],
  ["political_status", "政治面貌", true, "如：中共党员，或代码 01"],
  ["valid_from", "证有效期起始日", false, "考试合格公告日，YYYY-MM-DD"],
  ["valid_until", "证有效期截止日", false, "可留空，由有效期规则计算"],
  ["education", "最高学历", false],
  ["major", "最高学历专业", false],
  ["rank_code", "职级代码", false],
  ["law_major", "是否法学专业", true, "是 / 否"],
  ["legal_qualification", "是否具有法律职业资格", true, "是 / 否"],
  ["posts", "执法岗位", true, "岗位代码，多个用逗号分隔，如 01,02"],
  ["exam_category", "考试类别", false],
  // The template's eligibility columns (ecard_domain::roster::EXTRA_COLUMNS).
  ["law_exam_on", "通用法律知识考试时间", false, "近三年内，YYYY-MM-DD；与成绩同时填写"],
  ["law_exam_score", "通用法律知识考试成绩", false, "整数分，60分以上"],
  ["staffing", "编制情况", false, "公务员、参公管理人员或事业干部"],
  ["org_nature", "工作单位机构性质", false, "如：行政机关、法律法规授权组织、受委托组织"],
  ["position", "现任职务", false, "如：科员、大队长（不是执法岗位代码）"],
  ["certificate_number", "证编号", false, "仅限由执法单位自行编号的省份填写；由登记中心编号的省份请留空"],
];

/** Base64 of a chosen file (no data: prefix), or undefined when none was chosen. */
function fileBase64(input) {
  const file = input.files && input.files[0];
  if (!file) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ""));
    r.onerror = () => reject(new Error("照片读取失败，请重新选择"));
    r.readAsDataURL(file);
  });
}

function photoInput(id) {
  return h("input", { type: "file", id, accept: ".jpg,.jpeg,image/jpeg" });
}

/** The person's fields; `values` fills them (an application being edited). */
function personFields(values) {
  const inputs = {};
  const rows = FIELDS.map(([key, text, required, hint]) => {
    const input = h("input", {
      type: "text",
      id: `app-form-${key}`,
      name: key,
      autocomplete: "off",
      required: required || undefined,
      value: values && values[key] ? values[key] : "",
    });
    inputs[key] = input;
    return field(required ? `${text}（必填）` : text, input, hint);
  });
  return {
    el: h("div", { class: "form-grid" }, rows),
    read() {
      const out = {};
      for (const [key, input] of Object.entries(inputs)) out[key] = input.value;
      return out;
    },
    /** Marks the fields the server's errors name (by column) and focuses the first. */
    mark(errors) {
      for (const input of Object.values(inputs)) input.removeAttribute("aria-invalid");
      let first = null;
      for (const e of errors || []) {
        const f = FIELDS.find(([, text]) => text === e.column);
        if (!f) continue;
        inputs[f[0]].setAttribute("aria-invalid", "true");
        first = first || inputs[f[0]];
      }
      if (first) first.focus();
    },
  };
}

export function renderApplications(page) {
  const mayAct = can("import");
  const out = h("div", { id: "applications-list", "aria-live": "polite" });
  const panel = h("div", { id: "application-panel" });
  const reload = h("button", { type: "button", class: "btn btn-secondary", id: "applications-reload" }, "刷新");
  const addButton = h("button", { type: "button", class: "btn", id: "application-add" }, "新增人员");

  function closePanel() {
    clear(panel);
  }

  function showAddForm() {
    clear(panel);
    const person = personFields(null);
    const photo = photoInput("app-form-photo");
    const submit = h("button", { type: "submit", class: "btn", id: "app-form-submit" }, "提交申请");
    const cancel = h("button", { type: "button", class: "btn btn-secondary", onclick: closePanel }, "取消");
    const form = h(
      "form",
      { class: "panel", "aria-labelledby": "app-add-h", id: "application-add-form" },
      h("h2", { id: "app-add-h", tabindex: "-1" }, "新增人员（逐人填报）"),
      h("p", null, "按花名册模板的栏目逐项填写，检查规则与批量导入相同。照片可稍后在列表中补交（审核批准前）。"),
      person.el,
      field("本人照片（可选，JPG）", photo),
      h("div", { class: "actions" }, submit, cancel),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(submit, "正在提交…", async () => {
        try {
          const r = await post("applications", { form: person.read(), photo_jpeg: await fileBase64(photo) });
          closePanel();
          showNotice(`已提交申请 #${r.application_ids[0]}，等待县级司法局初审`);
          await load();
        } catch (err) {
          person.mark(err.body && err.body.errors);
          throw err;
        }
      });
    });
    add(panel, form);
    form.querySelector("h2").focus();
  }

  async function showEditForm(row) {
    const app = await get(`applications/${row.id}`);
    clear(panel);
    const person = app.form ? personFields(app.form) : null;
    const photo = photoInput("app-edit-photo");
    const submit = h("button", { type: "submit", class: "btn", id: "app-edit-submit" }, "修改后重新提交");
    const cancel = h("button", { type: "button", class: "btn btn-secondary", onclick: closePanel }, "取消");
    const form = h(
      "form",
      { class: "panel", "aria-labelledby": "app-edit-h", id: "application-edit-form" },
      h("h2", { id: "app-edit-h", tabindex: "-1" }, `修改申请 #${app.id}（${app.name}）`),
      h("p", { class: "reason", id: "app-edit-reason" }, `退回原因：${app.reason || "—"}`),
      person ? person.el : h("p", null, "换证、补证申请按原内容重新提交；可补交新的照片。内容有误请重新办理。"),
      field("新的本人照片（可选，JPG；不选则保留原照片）", photo),
      h("div", { class: "actions" }, submit, cancel),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(submit, "正在提交…", async () => {
        try {
          const body = { photo_jpeg: await fileBase64(photo) };
          if (person) body.form = person.read();
          await put(`applications/${app.id}`, body);
          closePanel();
          showNotice(`申请 #${app.id} 已修改并重新提交，等待审核`);
          await load();
        } catch (err) {
          if (person) person.mark(err.body && err.body.errors);
          throw err;
        }
      });
    });
    add(panel, form);
    form.querySelector("h2").focus();
  }

  function showPhotoForm(row) {
    clear(panel);
    const photo = photoInput("app-photo-file");
    const submit = h("button", { type: "submit", class: "btn", id: "app-photo-submit" }, "上传照片");
    const cancel = h("button", { type: "button", class: "btn btn-secondary", onclick: closePanel }, "取消");
    const form = h(
      "form",
      { class: "panel", "aria-labelledby": "app-photo-h" },
      h("h2", { id: "app-photo-h", tabindex: "-1" }, `补交照片：申请 #${row.id}（${row.name}）`),
      field("本人照片（JPG）", photo),
      h("div", { class: "actions" }, submit, cancel),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(submit, "正在上传…", async () => {
        const b64 = await fileBase64(photo);
        if (!b64) throw new Error("请选择照片");
        await post(`applications/${row.id}/photo`, { photo_jpeg: b64 });
        closePanel();
        showNotice(`已为申请 #${row.id} 补交照片`);
        await load();
      });
    });
    add(panel, form);
    form.querySelector("h2").focus();
  }

  function showSendBackForm(row) {
    clear(panel);
    const reason = h("textarea", { id: "app-sendback-reason", rows: "2", required: true });
    const submit = h("button", { type: "submit", class: "btn", id: "app-sendback-submit" }, "提交退回申请");
    const cancel = h("button", { type: "button", class: "btn btn-secondary", onclick: closePanel }, "取消");
    const form = h(
      "form",
      { class: "panel", "aria-labelledby": "app-sendback-h" },
      h("h2", { id: "app-sendback-h", tabindex: "-1" }, `申请退回：申请 #${row.id}（${row.name}）`),
      h("p", null, "已批准的申请在写卡前可申请退回一次，由审核的司法行政机关退回后修改再提交。"),
      field("退回原因（必填）", reason),
      h("div", { class: "actions" }, submit, cancel),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(submit, "正在提交…", async () => {
        await post(`applications/${row.id}/send-back`, { reason: reason.value });
        closePanel();
        showNotice(`已申请退回申请 #${row.id}，等待审核机关处理`);
        await load();
      });
    });
    add(panel, form);
    form.querySelector("h2").focus();
  }

  function actions(r) {
    if (!mayAct) return "—";
    const btn = (text, cls, fn) =>
      h("button", { type: "button", class: `btn btn-secondary ${cls}`, "data-id": r.id, onclick: () => fn(r) }, text);
    const list = [];
    if (r.state === "rejected" || r.state === "returned") {
      list.push(btn("修改后重新提交", "app-edit", (row) => showEditForm(row).catch(showError)));
    }
    if (r.state === "submitted" && !r.has_photo) list.push(btn("补交照片", "app-photo", showPhotoForm));
    if (r.state === "approved" && !r.send_back_request) list.push(btn("申请退回", "app-sendback", showSendBackForm));
    return list.length ? list : "—";
  }

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
        ["编号", "类型", "姓名", "执法单位", "原证号", "状态", "提交时间", "操作"],
        rows.map((r) =>
          h(
            "tr",
            { "data-state": r.state, "data-id": r.id },
            h("td", null, `#${r.id}`),
            h("td", null, r.kind_label),
            h("td", null, r.name),
            h("td", null, r.unit),
            h("td", null, r.follows_number || "—"),
            h(
              "td",
              { class: "app-state" },
              r.state_label,
              r.reason ? h("div", { class: "muted" }, `原因：${r.reason}`) : null,
              r.send_back_request ? h("div", { class: "muted" }, `已申请退回：${r.send_back_request}`) : null,
              r.note ? h("div", { class: "muted" }, `登记中心未受理：${r.note}`) : null,
              r.state === "submitted" && !r.has_photo ? h("div", { class: "muted" }, "缺少照片") : null,
            ),
            h("td", null, r.created_at.slice(0, 16).replace("T", " ")),
            h("td", null, actions(r)),
          ),
        ),
      ),
    );
  }
  reload.addEventListener("click", () => busy(reload, "正在刷新…", load));
  addButton.addEventListener("click", showAddForm);
  add(
    page,
    h("h1", { tabindex: "-1" }, "本站申请"),
    h("p", null, "新申领、换证、补证均由县级司法局初审、市级司法局复审，登记中心编号；批准结果同步回本站后在「制证」中写卡。退回的申请可在此修改后重新提交。"),
    h("div", { class: "actions" }, mayAct ? addButton : null, reload),
    panel,
    out,
  );
  busy(reload, "正在加载…", load);
}
