// 注销 / 暂停 / 恢复 / 换证 / 补证: POST /certificates/{id}/status. The change is
// recorded first; when its card write fails (or no card was at hand) the recorded
// status can be written later: POST /certificates/{id}/status/write.
import { post } from "./api.js";
import { busy, showError, showNotice } from "./core.js";
import { readerPanel } from "./readers.js";
import { certificatePicker } from "./pick.js";
import { add, h, clear, field, checkbox, radio, label, labelEntries } from "./dom.js";

const SUBMIT = {
  suspend: "提交暂停",
  lift: "提交恢复",
  cancel: "提交注销",
  replace: "提交换证",
  reissue: "提交补证",
};

export function renderStatus(page, { signal, params }) {
  const panel = readerPanel({ signal });
  const kindEntries = labelEntries("status_kind");
  // No kind is chosen for the user unless a link asked for one: 注销 cannot be undone,
  // so it must never be what a hurried click submits.
  const initialKind = kindEntries.some(([k]) => k === params.get("kind")) ? params.get("kind") : null;

  const kinds = h(
    "fieldset",
    { id: "status-kind" },
    h("legend", null, "变更类型"),
    kindEntries.map(([k, t]) => radio("status-kind", k, t, k === initialKind)),
  );
  const reason = h("input", { type: "text", id: "status-reason", maxlength: "200" });
  const destination = h("input", { type: "text", id: "status-destination", maxlength: "200" });
  const unit = h("input", { type: "text", id: "status-unit" });
  // 执法岗位 as words (依职权、依申请), sent as their codes.
  const postBoxes = labelEntries("post").map(([code, word]) => ({ code, ...checkbox(word, { value: code }) }));
  const posts = h("fieldset", { id: "status-posts", class: "choices" }, h("legend", null, "执法岗位"), postBoxes.map((b) => b.el));
  const postsValue = () => postBoxes.filter((b) => b.input.checked).map((b) => b.code).join(",");
  const postCodes = (value) => String(value || "").split(/[,，、;\s]+/).filter(Boolean).map((c) => c.padStart(2, "0")).sort().join(",");
  const setPosts = (value) => {
    const codes = postCodes(value).split(",");
    for (const b of postBoxes) b.input.checked = codes.includes(b.code);
  };
  const category = h("input", { type: "text", id: "status-category" });
  const area = h("input", { type: "text", id: "status-area" });
  const position = h("input", { type: "text", id: "status-position", maxlength: "100" });
  const occurredOn = h("input", { type: "date", id: "status-occurred-on" });
  const lostOn = h("input", { type: "date", id: "status-lost-on" });
  const declaredHow = h("input", { type: "text", id: "status-declared-how" });
  const declaredOn = h("input", { type: "date", id: "status-declared-on" });
  const voidReference = h("input", { type: "text", id: "status-void-reference" });
  const cardReturned = checkbox("原卡片已交回", { id: "status-card-returned" });
  const toCard = checkbox("同时写入所选读卡器中的卡片", { id: "status-to-card", checked: true });
  const confirmBox = checkbox("我已核对：此操作不可撤销", { id: "status-confirm" });

  const reasonRow = field("原因", reason);
  const destinationRow = field("去向（注销时填写）", destination, "例如：调往某区档案馆");
  // 3 个工作日内向市司法局办理注销、换发、补发手续: counted from the day it happened.
  const occurredRow = field("情形发生日期（可选）", occurredOn, "离开原单位、岗位调动或单位更名之日；不填按今天计算 3 个工作日的报送期限");
  const replaceSet = h(
    "fieldset",
    null,
    h("legend", null, "新证信息（换证）"),
    field("执法单位", unit),
    posts,
    field("执法类别", category),
    field("执法区域", area),
    field("现任职务（换证表“工作岗位及职务”）", position, "例如：科员、大队长"),
  );
  const reissueSet = h(
    "fieldset",
    null,
    h("legend", null, "遗失与作废声明（补证）"),
    field("遗失日期", lostOn),
    field("作废声明方式", declaredHow, "例如：四川日报遗失声明"),
    field("声明日期", declaredOn),
    field("声明凭证", voidReference, "例如：四川日报 2026-11-05 第4版"),
  );
  const cardReturnedRow = h("div", { class: "row inline" }, cardReturned.el);
  const toCardRow = h("div", { class: "row inline" }, toCard.el);
  const confirmRow = h("div", { class: "row inline" }, confirmBox.el);
  const submit = h("button", { type: "submit", class: "btn btn-danger", id: "status-submit" }, SUBMIT[initialKind] || "提交");
  const writeCard = h(
    "button",
    { type: "button", class: "btn btn-secondary", id: "status-write-card" },
    "将已记录的状态写入卡片",
  );
  const done = h("div", { id: "status-done", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", id: "status-form", "aria-labelledby": "status-h", hidden: true },
    h("h2", { id: "status-h" }, "状态变更"),
    kinds,
    reasonRow,
    destinationRow,
    occurredRow,
    replaceSet,
    reissueSet,
    cardReturnedRow,
    toCardRow,
    confirmRow,
    h("div", { class: "actions" }, submit, writeCard),
  );

  const kind = () => {
    const checked = form.querySelector('input[name="status-kind"]:checked');
    return checked ? checked.value : null;
  };
  function showFields() {
    const k = kind();
    if (!k) {
      // Until a kind is chosen only the choice is shown.
      for (const el of [reasonRow, destinationRow, occurredRow, replaceSet, reissueSet, toCardRow, confirmRow]) el.hidden = true;
      submit.textContent = "提交";
      submit.className = "btn";
      return;
    }
    reasonRow.hidden = k === "reissue";
    destinationRow.hidden = k !== "cancel";
    occurredRow.hidden = !["cancel", "replace"].includes(k);
    replaceSet.hidden = k !== "replace";
    reissueSet.hidden = k !== "reissue";
    cardReturnedRow.hidden = !["replace", "reissue"].includes(k);
    // A 换证's handed-back card can be terminated at once; a lost card is not here.
    toCardRow.hidden = !["suspend", "lift", "cancel", "replace"].includes(k);
    confirmRow.hidden = !["cancel", "replace", "reissue"].includes(k);
    submit.textContent = SUBMIT[k];
    submit.className = k === "lift" ? "btn" : "btn btn-danger";
  }
  kinds.addEventListener("change", showFields);

  let lastPicked = null;
  const prefilled = {};
  const picker = certificatePicker({
    panel,
    onPick(detail) {
      form.hidden = false;
      if (detail.id !== lastPicked) clear(done);
      lastPicked = detail.id;
      // Prefill the replacement's fields from the picked certificate, but never over
      // what the user typed: a field still holding the previous prefill (another
      // person's data) is refilled, one the user changed is kept.
      const c = detail.certificate;
      for (const [input, key] of [[unit, "unit"], [category, "category"], [area, "area"]]) {
        if (!input.value || input.value === prefilled[key]) input.value = c[key] || "";
        prefilled[key] = c[key] || "";
      }
      if (!postsValue() || postsValue() === prefilled.posts) setPosts(c.posts);
      prefilled.posts = postCodes(c.posts);
    },
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const k = kind();
    const writing = !toCardRow.hidden && toCard.input.checked;
    busy(submit, writing ? "正在写卡…" : "正在提交…", async () => {
      const cert = picker.current();
      if (!cert) throw new Error("请先选择证件");
      if (!k) throw new Error("请先选择变更类型");
      if (!confirmRow.hidden && !confirmBox.input.checked) throw new Error("请勾选「我已核对」后再提交");
      const body = { kind: k };
      const need = (input, name) => {
        const v = input.value.trim();
        if (!v) {
          input.focus();
          throw new Error(`请填写「${name}」`);
        }
        return v;
      };
      if (k !== "reissue") body.reason = need(reason, "原因");
      if (k === "cancel") body.destination = need(destination, "去向");
      if (k === "replace") {
        body.unit = need(unit, "执法单位");
        body.posts = postsValue();
        if (!body.posts) {
          postBoxes[0].input.focus();
          throw new Error("请选择「执法岗位」");
        }
        body.category = need(category, "执法类别");
        body.area = need(area, "执法区域");
      }
      if (k === "reissue") {
        body.lost_on = need(lostOn, "遗失日期");
        body.void_declared_how = need(declaredHow, "作废声明方式");
        body.void_declared_on = need(declaredOn, "声明日期");
        body.void_reference = need(voidReference, "声明凭证");
      }
      if (k === "replace" || k === "reissue") body.card_returned = cardReturned.input.checked;
      if ((k === "cancel" || k === "replace") && occurredOn.value) body.occurred_on = occurredOn.value;
      if (k === "replace" && position.value.trim()) body.position = position.value.trim();
      if (writing) {
        const reader = panel.selected();
        if (!reader) throw new Error("请先选择读卡器，或取消勾选「同时写入卡片」");
        body.reader = reader;
      }
      const r = await post(`certificates/${cert.id}/status`, body);
      showResult(`${label("status_kind", k)}已完成`, r);
      confirmBox.input.checked = false;
      await picker.reload();
      if (r.card_write_failed) {
        showError(`${label("status_kind", k)}已记录，但未写入卡片：${r.card_write_failed.message}`);
      } else {
        showNotice(`${label("status_kind", k)}已完成：${r.state_label || r.state}`);
      }
    });
  });

  function showResult(title, r) {
    clear(done);
    const failed = r.card_write_failed;
    add(done,
      h(
        "div",
        { class: "panel", "data-state": r.state, "data-card-written": r.written_to ? "yes" : "no" },
        h("h2", null, `✔ ${title}`),
        h("p", null, `证件现为「${r.state_label || r.state}」`, r.written_to ? `，已写入卡片 ${r.written_to}。` : "，未写卡。"),
        failed
          ? h(
              "p",
              { class: "outcome-warning", id: "status-card-failed" },
              h("strong", null, "⚠ 未写入卡片："),
              `${failed.message}。变更已记录，核查时以记录为准；插好该卡后点「将已记录的状态写入卡片」。`,
            )
          : null,
        r.application_id
          ? h(
              "p",
              { id: "status-application" },
              `已向登记中心提交申请 #${r.application_id}：县级初审、市级复审通过后由登记中心编号，新证随审批结果下发，到达后在「制证」中写卡。`,
              h("a", { href: "#/applications" }, "查看本站申请"),
            )
          : null,
        r.due_on
          ? h(
              "p",
              { id: "status-due" },
              `请于 ${r.due_on} 前向市司法局办理（3 个工作日）；报送登记中心后自动销项，逾期见`,
              h("a", { href: "#/lists" }, "待办提醒"),
              "。",
            )
          : null,
      ),
    );
  }

  writeCard.addEventListener("click", () => {
    busy(writeCard, "正在写卡…", async () => {
      const cert = picker.current();
      if (!cert) throw new Error("请先选择证件");
      const reader = panel.selected();
      if (!reader) throw new Error("请先选择放有该卡的读卡器");
      const r = await post(`certificates/${cert.id}/status/write`, { reader });
      showResult("已写入卡片", r);
      await picker.reload();
      showNotice(`已将「${r.state_label || r.state}」写入卡片 ${r.written_to}`);
    });
  });

  add(page, 
    // The same words as the navigation's link to this page.
    h("h1", { tabindex: "-1" }, "注销/暂停/恢复/换补证"),
    h("p", null, "选择证件和变更类型。卡片在读卡器中时，变更同时写入卡片。换证、补证先注销或声明作废原证，再向登记中心提交申请，经县级初审、市级复审后由登记中心编号下发，到达后制证。"),
    h("div", { class: "panel" }, panel.el),
    picker.el,
    form,
    done,
  );
  showFields();
  const id = Number(params.get("id"));
  if (id) picker.pick(id).catch(showError);
}
