// A unit's application form: a new application (#/new) or a returned one (#/edit?id=3).
import { enc, get, post, put, query, upload } from "./api.js";
import { field, h, select } from "./dom.js";
import { go, showError, state } from "./app.js";

const CERT_KINDS = [["enforcement", "行政执法证"], ["entrusted", "委托行政执法证"], ["supervision", "行政执法监督证"]];

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ""));
    r.onerror = () => reject(new Error("照片读取失败"));
    r.readAsDataURL(file);
  });
}

export async function renderForm(page, params) {
  const id = params.get("id");
  const existing = id ? await get(`applications/${enc(id)}/detail`) : null;
  const f = existing ? existing.form : {};
  const input = (name, value, attrs) => h("input", { type: "text", name, value: value || "", ...attrs });
  const c = {
    name: input("name", f.name, { required: true, maxlength: 50 }),
    id_number: input("id_number", f.id_number, { required: true, maxlength: 18 }),
    ethnicity: input("ethnicity", f.ethnicity || "汉族", { required: true }),
    certificate_kind: select(CERT_KINDS, { name: "certificate_kind" }),
    posts: input("posts", f.posts, { required: true }),
    category: input("category", f.category, { required: true, maxlength: 100 }),
    area: input("area", f.area, { required: true, maxlength: 100 }),
    replaces: input("replaces", f.replaces),
    // Only where the province's units number their own (Fujian); kept by an edit.
    number: input("number", f.number, { maxlength: 64, readonly: existing && f.number ? true : undefined }),
    photo: h("input", { type: "file", name: "photo", accept: "image/jpeg" }),
    materials: h("input", { type: "file", name: "materials", multiple: true, accept: "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png" }),
  };
  c.certificate_kind.value = f.certificate_kind || "enforcement";
  const prefill = Boolean(state.me && state.me.units_prefill_numbers);
  page.append(h("h1", null, existing ? `修改申请 ${existing.id}：${existing.form.name}` : "新申请"));
  if (existing && existing.reason) page.append(h("p", { class: "refusal" }, `退回原因：${existing.reason}`));
  const form = h(
    "form",
    {
      class: "panel",
      id: "application-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          // An edit starts from the whole stored form: fields this page does not show
          // (a 补证's link, dates, exam and staffing facts) are kept, never erased.
          const body = {
            ...f,
            name: c.name.value,
            id_number: c.id_number.value,
            ethnicity: c.ethnicity.value,
            certificate_kind: c.certificate_kind.value,
            posts: c.posts.value,
            category: c.category.value,
            area: c.area.value,
            replaces: c.replaces.value.trim() || null,
          };
          if (prefill) body.number = c.number.value.trim() || null;
          if (c.photo.files.length) body.photo_jpeg = await readBase64(c.photo.files[0]);
          const saved = existing ? await put(`applications/${enc(existing.id)}`, body) : await post("applications", body);
          // The materials follow the saved application, one request each; one that
          // is refused is named, the others and the application stay.
          const refused = [];
          for (const file of c.materials.files) {
            try {
              await upload(`applications/${enc(saved.id)}/materials${query({ name: file.name })}`, file);
            } catch (e) {
              refused.push(`“${file.name}”：${e.message}`);
            }
          }
          const done = existing ? "已保存修改，请核对后重新提交。" : "申请已提交，等待审核。";
          go(`app?id=${saved.id}`, refused.length ? `${done}以下证明材料未能上传：${refused.join("；")}` : done);
        } catch (e) {
          showError(e);
        }
      },
    },
    field("姓名", c.name),
    field("公民身份号码", c.id_number),
    field("民族", c.ethnicity),
    field("证件类型", c.certificate_kind),
    field("执法岗位", c.posts, "岗位代码，多个用逗号分隔，如 01,02"),
    field("执法类别", c.category),
    field("执法区域", c.area),
    field("原证件编号（换证时填写）", c.replaces),
    prefill ? field("证编号（本省由执法单位按编号规则自行编号）", c.number, "新申领人员填写本单位按编号规则生成的编号；换证、补证不填") : null,
    field("照片", c.photo, existing ? "不选择则保留原照片" : "JPG，大小和尺寸须符合本省规定（提交时检查）"),
    field("证明材料", c.materials, existing ? "可追加 PDF、JPG 或 PNG 文件，已上传的保留；每份不超过 5 MB，每件申请最多 10 份" : "PDF、JPG 或 PNG 文件，可多选；每份不超过 5 MB，每件申请最多 10 份"),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit", id: "save" }, existing ? "保存修改" : "提交申请")),
  );
  page.append(form);
}
