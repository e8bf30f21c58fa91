// 年审: choose the certificate (read the card or search), confirm, write; the
// year's schedule with its xlsx download.
import { apiUrl, get, post } from "./api.js";
import { busy, can, showNotice, state } from "./core.js";
import { readerPanel } from "./readers.js";
import { certificatePicker } from "./pick.js";
import { add, h, clear, field, checkbox, radio, table, label, today } from "./dom.js";

export function renderReview(page, { signal }) {
  const panel = readerPanel({ signal });
  const thisYear = Number(today().slice(0, 4));
  // Reviews are named by the year they cover (the 2026 review is done by 31 March
  // 2027); the station says which one is being worked on.
  const reviewYear = reviewYearNow(thisYear);

  const year = h("input", { type: "number", id: "review-year", value: String(reviewYear), min: "2000", max: "2100", required: true });
  const remark = h("textarea", { id: "review-remark", maxlength: "200" });
  const results = h(
    "fieldset",
    { id: "review-result-choice" },
    h("legend", null, "年审结论"),
    radio("review-result", "passed", "合格", true),
    radio("review-result", "failed", "不合格", false),
  );
  const toCard = checkbox("同时写入所选读卡器中的卡片", { id: "review-to-card", checked: true });
  const submit = h("button", { type: "submit", class: "btn", id: "review-submit" }, "确认年审");
  const summary = h("div", { id: "review-target" });
  const done = h("div", { id: "review-done", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "review-h", hidden: true, id: "review-form" },
    h("h2", { id: "review-h" }, "确认年审"),
    summary,
    field("年审年度", year, "例如 2026 年度的年审在次年 3 月 31 日前完成"),
    results,
    field("备注（可选）", remark),
    h("div", { class: "row inline" }, toCard.el),
    h("div", { class: "actions" }, submit),
  );

  let lastPicked = null;
  const picker = certificatePicker({
    panel,
    stateFilter: "issued",
    onPick(detail) {
      form.hidden = false;
      clear(summary);
      if (detail.id !== lastPicked) clear(done);
      lastPicked = detail.id;
      // A certificate issued after the year being worked on is first reviewed for
      // its issue year.
      const issued = Number(String(detail.certificate.issue_date || "").slice(0, 4));
      year.value = String(Math.max(reviewYear, Number.isInteger(issued) ? issued : 0));
      const reviews = detail.reviews || [];
      add(summary, 
        h("p", null, `持证人 ${detail.holder.name}，证号 ${detail.certificate.number}，有效期至 ${detail.certificate.valid_until}。`),
        reviews.length
          ? h("p", null, "已有年审：", reviews.map((r) => `${r.year} 年度 ${label("review_result", r.result)}${r.on_card ? "（已写卡）" : "（未写卡）"}`).join("；"))
          : h("p", { class: "muted" }, "尚无年审记录。"),
      );
    },
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const writing = toCard.input.checked;
    busy(submit, writing ? "正在写入卡片…" : "正在保存…", async () => {
      const cert = picker.current();
      if (!cert) throw new Error("请先选择证件");
      const y = Number(year.value);
      if (!Number.isInteger(y) || y < 2000 || y > 2100) throw new Error("请填写正确的年审年度");
      const body = {
        certificate_id: cert.id,
        result: form.querySelector('input[name="review-result"]:checked').value,
        year: y,
      };
      if (remark.value.trim()) body.remark = remark.value.trim();
      if (writing) {
        const reader = panel.selected();
        if (!reader) throw new Error("请先选择读卡器，或取消勾选「同时写入卡片」");
        body.reader = reader;
      }
      const r = await post("reviews", body);
      clear(done);
      add(done, 
        h(
          "p",
          { class: "panel", "data-year": r.year, "data-written-to": r.written_to || "" },
          `✔ ${r.year} 年度年审已记录（${label("review_result", r.result)}，${r.date}）`,
          r.written_to ? `，已写入卡片 ${r.written_to}。` : "，未写入卡片。",
        ),
      );
      await picker.reload();
      showNotice(r.written_to ? `年审已写入卡片 ${r.written_to}` : "年审已记录");
    });
  });

  // Schedule, of the whole year or one unit; a reviewer can mark a unit's due
  // certificates at once (records only: each card is written when next presented).
  const sYear = h("input", { type: "number", id: "schedule-year", value: String(reviewYear), min: "2000", max: "2100" });
  const sUnit = h("select", { id: "schedule-unit" }, h("option", { value: "" }, "全部单位"));
  const sBtn = h("button", { type: "submit", class: "btn btn-secondary" }, "查询");
  const xlsx = h("a", { href: "", download: "" }, "下载年审名单（xlsx）");
  const query = () => {
    const q = `year=${encodeURIComponent(sYear.value)}`;
    return sUnit.value ? `${q}&unit=${encodeURIComponent(sUnit.value)}` : q;
  };
  const syncXlsx = () => {
    xlsx.href = apiUrl(`reviews/schedule.xlsx?${query()}`);
  };
  syncXlsx();
  sYear.addEventListener("input", syncXlsx);
  sUnit.addEventListener("change", () => {
    syncXlsx();
    loadSchedule();
  });
  const markBtn = h("button", { type: "button", class: "btn", id: "schedule-mark-unit", hidden: true }, "整单位标记年审合格");
  const confirmBox = h("div", { id: "schedule-mark-confirm", class: "panel", hidden: true });
  const sOut = h("div", { id: "schedule" });
  const sForm = h(
    "form",
    { class: "panel", "aria-labelledby": "sched-h", id: "schedule-form" },
    h("h2", { id: "sched-h" }, "年审名单"),
    field("年度", sYear),
    field("执法单位", sUnit),
    h("div", { class: "actions" }, sBtn, xlsx, can("review") ? markBtn : null),
    confirmBox,
    sOut,
  );
  let due = 0;
  // The unit choices: every unit on the year's schedule, the chosen one kept.
  const fillUnits = (units) => {
    const chosen = sUnit.value;
    clear(sUnit);
    add(sUnit, h("option", { value: "" }, "全部单位"), (units || []).map((u) => h("option", { value: u }, u)));
    sUnit.value = (units || []).includes(chosen) ? chosen : "";
  };
  const loadSchedule = () =>
    busy(sBtn, "正在查询…", async () => {
      const s = await get(`reviews/schedule?${query()}`);
      fillUnits(s.units);
      syncXlsx();
      due = s.items.filter((i) => i.status && (i.status.status === "due" || i.status.status === "overdue")).length;
      markBtn.hidden = !sUnit.value || due === 0;
      closeConfirm();
      clear(sOut);
      add(sOut, 
        h("p", null, `${s.year} 年度年审${sUnit.value ? `（${sUnit.value}）` : ""}，截止日期 ${s.deadline}。需年审 ${s.items.length} 人，已年审 ${s.items.filter((i) => i.reviewed_on).length} 人。`),
        s.items.length
          ? table(
              null,
              ["证号", "姓名", "执法单位", "发证日期", "年审日期", "状态"],
              s.items.map((i) => {
                const st = i.status && i.status.status;
                const icon = st === "done" ? "✔ " : st === "overdue" ? "⚠ " : "○ ";
                return h(
                  "tr",
                  { "data-status": st || "" },
                  h("td", null, i.number),
                  h("td", null, i.name),
                  h("td", null, i.unit),
                  h("td", null, i.issue_date),
                  h("td", null, i.reviewed_on || "—"),
                  h("td", null, icon, i.status_label || st || "—"),
                );
              }),
            )
          : h("p", { class: "muted" }, "该年度没有需要年审的证件（该年度之后发证的证件不参加该年度年审）。"),
      );
    });
  sForm.addEventListener("submit", (e) => {
    e.preventDefault();
    loadSchedule();
  });

  function closeConfirm() {
    clear(confirmBox);
    confirmBox.hidden = true;
  }
  confirmBox.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      closeConfirm();
      markBtn.focus();
    }
  });
  markBtn.addEventListener("click", () => {
    const unit = sUnit.value;
    const y = Number(sYear.value);
    if (!unit) return;
    clear(confirmBox);
    confirmBox.hidden = false;
    const yes = h("button", { type: "button", class: "btn", id: "schedule-mark-confirm-yes" }, "确认标记");
    const no = h("button", { type: "button", class: "btn btn-secondary", id: "schedule-mark-confirm-no" }, "取消");
    no.addEventListener("click", () => {
      closeConfirm();
      markBtn.focus();
    });
    yes.addEventListener("click", () =>
      busy(yes, "正在记录…", async () => {
        const r = await post("reviews/unit", { unit, year: y });
        closeConfirm();
        await loadSchedule();
        showNotice(`已为「${r.unit}」记录 ${r.recorded.length} 人的 ${r.year} 年度年审（合格，${r.date}），卡片在下次读卡年审时写入。`);
      }),
    );
    add(
      confirmBox,
      h("div", { role: "group", "aria-labelledby": "schedule-mark-text" },
        h("p", { id: "schedule-mark-text" }, `确认将「${unit}」名单中尚未年审的 ${due} 人全部记录为 ${y} 年度年审合格？只写入记录，卡片在下次读卡年审时写入。`),
        h("div", { class: "actions" }, yes, no),
      ),
    );
    no.focus();
  });

  add(page, 
    h("h1", { tabindex: "-1" }, "年审"),
    h("p", null, "放入执法证并读卡，或查找证件；确认年审结论后写入卡片和记录。"),
    h("div", { class: "panel" }, panel.el),
    picker.el,
    form,
    done,
    can("view_records") ? sForm : null,
  );
}

// The review year the station works on now (its session says; this year if an
// older station does not).
function reviewYearNow(thisYear) {
  const y = state.session && Number(state.session.review_year);
  return Number.isInteger(y) && y > 0 ? y : thisYear;
}
