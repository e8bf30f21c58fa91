// The queue, the lists, one application with its decisions.
import { enc, get, post, query } from "./api.js";
import { facts, field, h, select, table, when } from "./dom.js";
import { go, notice, showError, state } from "./app.js";

function deadlineCell(d) {
  if (!d) return "—";
  if (d.overdue) {
    // Past its day with no working day since (a weekend): overdue, no count yet.
    const late = d.working_days_left < 0 ? `已超期 ${-d.working_days_left} 个工作日` : "已超期";
    return h("span", { class: "tag tag-bad" }, late);
  }
  if (d.working_days_left === 0) return h("span", { class: "tag tag-warn" }, "今日到期");
  return h("span", { class: "tag tag-ok" }, `剩余 ${d.working_days_left} 个工作日`);
}

/** The filters; the kinds' and states' words come with the list (`data`). */
function filters(params, data, withState, onApply) {
  const unit = select([["", "全部单位"], ...data.units.map((u) => [String(u.id), u.name])], { name: "unit" });
  const kind = select([["", "全部类型"], ...data.kinds.map((k) => [k.value, k.label])], { name: "kind" });
  const st = withState ? select([["", "全部状态"], ...data.states.map((x) => [x.value, x.label])], { name: "state" }) : null;
  const from = h("input", { type: "date", name: "from" });
  const to = h("input", { type: "date", name: "to" });
  unit.value = params.get("unit") || "";
  kind.value = params.get("kind") || "";
  if (st) st.value = params.get("state") || "";
  from.value = params.get("from") || "";
  to.value = params.get("to") || "";
  return h(
    "form",
    {
      class: "filters",
      onsubmit: (ev) => {
        ev.preventDefault();
        onApply(query({ unit: unit.value, kind: kind.value, state: st ? st.value : "", from: from.value, to: to.value }));
      },
    },
    field("单位", unit),
    field("类型", kind),
    st ? field("状态", st) : null,
    field("提交日期自", from),
    field("至", to),
    h("button", { class: "btn btn-secondary", type: "submit" }, "筛选"),
  );
}

function filterQuery(params) {
  return query({
    unit: params.get("unit"),
    kind: params.get("kind"),
    state: params.get("state"),
    from: params.get("from"),
    to: params.get("to"),
  });
}

function appLink(item) {
  return h("a", { href: `#/app?id=${item.id}` }, item.form.name);
}

export async function renderQueue(page, params) {
  const data = await get(`queue${filterQuery(params)}`);
  page.append(h("h1", null, "待审核申请"));
  page.append(
    h("p", { class: "muted" }, `今天是 ${state.me.today}。每一级须在申请到达本级之日起 3 个工作日内完成审核（周末不计）。`),
  );
  page.append(filters(params, data, false, (q) => go(`queue${q}`)));
  if (data.items.length === 0) {
    page.append(h("p", null, "没有等待本级审核的申请。"));
    return;
  }
  const boxes = [];
  const rows = data.items.map((a) => {
    const box = h("input", { type: "checkbox", value: String(a.id), "aria-label": `选择 ${a.form.name}` });
    boxes.push(box);
    return h(
      "tr",
      { class: a.deadline && a.deadline.overdue ? "overdue" : null, "data-id": a.id },
      h("td", null, box),
      h("td", null, String(a.id)),
      h("td", null, appLink(a)),
      h("td", null, a.unit),
      h("td", null, a.kind_label),
      h("td", null, a.state_label),
      h("td", null, a.deadline ? a.deadline.since : "—"),
      h("td", null, deadlineCell(a.deadline)),
    );
  });
  page.append(table("按到达本级的时间排列，最早的在前", ["选择", "编号", "姓名", "单位", "类型", "状态", "到达本级", "审核期限"], rows, { id: "queue" }));
  page.append(
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          class: "btn",
          type: "button",
          id: "approve-selected",
          onclick: async () => {
            const ids = boxes.filter((b) => b.checked).map((b) => Number(b.value));
            if (ids.length === 0) {
              showError("请先选择要通过的申请");
              return;
            }
            try {
              const out = await post("approve", { ids });
              const failed = out.filter((o) => !o.ok);
              await renderAgain(page, params, renderQueue);
              notice(`已通过 ${out.length - failed.length} 件。`);
              if (failed.length) showError(failed.map((f) => `申请 ${f.id}：${f.message}`).join("；"));
            } catch (e) {
              showError(e);
            }
          },
        },
        "通过所选申请",
      ),
    ),
  );
}

async function renderAgain(page, params, render) {
  while (page.firstChild) page.removeChild(page.firstChild);
  await render(page, params);
}

export async function renderList(page, params) {
  const data = await get(`applications${filterQuery(params)}`);
  const unit = state.me.role === "unit";
  page.append(h("h1", null, unit ? `本单位申请（${state.me.unit_name || ""}）` : "辖区内的申请"));
  page.append(filters(params, data, true, (q) => go(`list${q}`)));
  if (data.items.length === 0) {
    page.append(h("p", null, "没有符合条件的申请。"));
    return;
  }
  const rows = data.items.map((a) =>
    h(
      "tr",
      { "data-id": a.id, class: a.deadline && a.deadline.overdue ? "overdue" : null },
      h("td", null, String(a.id)),
      h("td", null, appLink(a)),
      h("td", null, a.unit),
      h("td", null, a.kind_label),
      h("td", null, a.state_label),
      h("td", null, (a.state === "rejected" || a.state === "returned") && a.reason ? a.reason : "—"),
      h("td", null, a.number || "—"),
      h("td", null, when(a.updated_at)),
    ),
  );
  page.append(table(null, ["编号", "姓名", "单位", "类型", "状态", "退回原因", "证件编号", "更新时间"], rows, { id: "applications" }));
}

function reasonBox(label, id) {
  const t = h("textarea", { id, required: true, maxlength: 500 });
  return { t, el: field(label, t) };
}

export async function renderApplication(page, params) {
  const id = Number(params.get("id"));
  const a = await get(`applications/${enc(id)}/detail`);
  page.append(h("h1", null, `申请 ${a.id}：${a.form.name}`));
  page.append(
    facts([
      ["单位", a.unit_name],
      ["类型", a.kind_label],
      ["状态", a.state_label],
      [a.state === "rejected" || a.state === "returned" ? "退回原因" : "上次退回原因", a.reason],
      ["证件编号", a.number],
      ["审核期限", a.deadline ? deadlineCell(a.deadline) : null],
      ["提交时间", when(a.created_at)],
    ]),
  );
  page.append(h("h2", null, "人员与资格信息"));
  page.append(facts(a.fields.map((f) => [f.label, f.value])));
  page.append(h("h2", null, "照片"));
  if (a.photo) {
    page.append(h("img", { class: "photo-full", src: `v1/applications/${enc(id)}/photo`, alt: `${a.form.name}的照片` }));
    page.append(
      facts([
        ["文件大小", `${a.photo.bytes} 字节`],
        ["尺寸", a.photo.width ? `${a.photo.width}×${a.photo.height}` : null],
        ["检查结果", a.photo.problems.length ? a.photo.problems.join("；") : "符合要求"],
      ]),
    );
  } else {
    page.append(h("p", null, "未提交照片。"));
  }
  page.append(h("h2", null, "证明材料"));
  if (a.materials.length === 0) {
    page.append(h("p", { class: "muted" }, "本申请未附证明材料。"));
  } else {
    page.append(
      table(
        null,
        ["文件", "类型", "大小", "上传人", "上传时间"],
        a.materials.map((m) =>
          h(
            "tr",
            { "data-material": m.id },
            h("td", null, h("a", { href: `v1/applications/${enc(id)}/materials/${enc(m.id)}`, target: "_blank", rel: "noopener" }, m.file_name)),
            h("td", null, m.type_label),
            h("td", null, m.size >= 1024 ? `${Math.round(m.size / 1024)} KB` : `${m.size} 字节`),
            h("td", null, m.uploaded_by),
            h("td", null, when(m.created_at)),
          ),
        ),
        { id: "materials" },
      ),
    );
  }
  page.append(h("h2", null, "审核记录"));
  page.append(
    table(
      null,
      ["时间", "操作人", "操作", "层级", "原因"],
      a.history.map((d) =>
        h("tr", null, h("td", null, when(d.at)), h("td", null, d.actor), h("td", null, d.action_label), h("td", null, d.level_label || "—"), h("td", null, d.reason_text || "—")),
      ),
      { id: "history" },
    ),
  );
  const again = () => renderAgain(page, params, renderApplication);
  const act = async (fn, message) => {
    try {
      await fn();
      await again();
      notice(message);
    } catch (e) {
      showError(e);
    }
  };
  if (a.can_decide) {
    const r = reasonBox("不通过的原因（退回时必填）", "reject-reason");
    page.append(
      h(
        "section",
        { class: "panel decide" },
        h("h2", null, "审核"),
        h("div", { class: "actions" }, h("button", { class: "btn", type: "button", id: "approve", onclick: () => act(() => post(`applications/${enc(id)}/approve`), "已审核通过。") }, "审核通过")),
        r.el,
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              class: "btn btn-danger",
              type: "button",
              id: "reject",
              onclick: () => {
                if (!r.t.value.trim()) {
                  showError("退回申请须填写原因");
                  r.t.focus();
                  return;
                }
                act(() => post(`applications/${enc(id)}/reject`, { reason: r.t.value }), "已退回单位修改。");
              },
            },
            "不通过，退回单位",
          ),
        ),
      ),
    );
  }
  if (a.can_edit) {
    page.append(
      h(
        "div",
        { class: "actions" },
        h("a", { class: "btn btn-secondary", href: `#/edit?id=${a.id}`, id: "edit" }, "修改申请"),
        h("button", { class: "btn", type: "button", id: "resubmit", onclick: () => act(() => post(`applications/${enc(id)}/resubmit`), "已重新提交。") }, "重新提交"),
      ),
    );
  }
  if (a.can_send_back) {
    const r = reasonBox(state.me.role === "unit" ? "申请退回修改的原因" : "应单位申请退回的原因", "send-back-reason");
    page.append(
      h(
        "section",
        { class: "panel decide" },
        h("h2", null, "退回修改（限一次，制证前）"),
        r.el,
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              class: "btn btn-secondary",
              type: "button",
              id: "send-back",
              onclick: () => {
                if (!r.t.value.trim()) {
                  showError("退回修改须填写原因");
                  return;
                }
                act(() => post(`applications/${enc(id)}/send-back`, { reason: r.t.value }), "已退回修改。");
              },
            },
            state.me.role === "unit" ? "申请退回修改" : "退回修改",
          ),
        ),
      ),
    );
  }
}
