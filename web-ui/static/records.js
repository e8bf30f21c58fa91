// 记录: certificate search and detail, revocation list, audit log (admins).
import { apiUrl, get, post } from "./api.js";
import { busy, can, showError, showNotice } from "./core.js";
import { holderFacts, certificateFacts } from "./verify.js";
import { add, h, clear, field, select, table, label, labelEntries } from "./dom.js";

function renderDetail(box, id) {
  clear(box);
  add(box, h("p", { class: "muted" }, "正在加载…"));
  return get(`certificates/${id}`).then((d) => {
    clear(box);
    const links = [];
    if (can("change_status")) links.push(h("a", { href: `#/status?id=${d.id}` }, "注销/暂停/恢复/换补证"));
    if (can("review")) links.push(h("a", { href: "#/review" }, "年审"));
    // The face is printed for a card in use: its QR names that card's serial.
    if (can("issue") && (d.cards || []).some((c) => c.state === "live" && !c.terminated)) {
      links.push(h("a", { href: apiUrl(`certificates/${d.id}/face.pdf`), id: "face-pdf", target: "_blank", rel: "noopener" }, "打印卡面（PDF，含二维码）"));
      // Straight to the card printer chosen in 设置 (CUPS).
      const print = h("button", { type: "button", class: "btn btn-small btn-secondary", id: "face-print" }, "送制证打印机打印卡面");
      print.addEventListener("click", () =>
        busy(print, "正在发送…", async () => {
          const r = await post(`certificates/${d.id}/print`);
          showNotice(`卡面已送打印机「${r.queue}」（打印任务 ${r.print_job}）`);
        }));
      links.push(print);
    }
    add(box, 
      h("h2", { id: "detail-h", tabindex: "-1" }, `证件记录 #${d.id}：${d.holder.name}（${d.state_label || label("certificate_state", d.state)}）`),
      links.length ? h("p", null, links.flatMap((a, i) => (i ? [" · ", a] : [a]))) : null,
      h(
        "div",
        { class: "cols" },
        h(
          "section",
          { class: "panel photo-box", "aria-label": "登记照片" },
          h("img", { class: "photo", src: apiUrl(`officers/${d.officer_id}/photo`), alt: `登记照片：${d.holder.name}` }),
        ),
        h("section", { class: "panel", "aria-label": "持证人" }, h("h3", null, "持证人"), holderFacts(d.holder)),
        h(
          "section",
          { class: "panel", "aria-label": "证件" },
          h("h3", null, "证件"),
          certificateFacts(d.certificate),
          d.replaces_id ? h("p", null, "替代：", h("a", { href: `#/records?id=${d.replaces_id}` }, `证件记录 #${d.replaces_id}`)) : null,
        ),
      ),
      h("h3", null, "卡片"),
      d.cards && d.cards.length
        ? table(null, ["卡号", "卡类", "状态", "写卡时间"], d.cards.map((c) => h("tr", { "data-family": c.family || "" }, h("td", null, c.serial), h("td", null, label("family", c.family) || "—"), h("td", null, label("card_state", c.state)), h("td", null, c.written_at || "—"))))
        : h("p", { class: "muted" }, "尚未写卡"),
      h("h3", null, "年审"),
      d.reviews && d.reviews.length
        ? table(null, ["年度", "日期", "结论", "备注", "已写卡"], d.reviews.map((r) => h("tr", null, h("td", null, r.year), h("td", null, r.date), h("td", null, label("review_result", r.result)), h("td", null, r.remark || "—"), h("td", null, r.on_card ? "✔ 是" : "✖ 否"))))
        : h("p", { class: "muted" }, "尚无年审"),
      h("h3", null, "状态变更"),
      d.status_changes && d.status_changes.length
        ? table(null, ["类型", "原因", "生效日期", "已写卡"], d.status_changes.map((s) => h("tr", null, h("td", null, label("status_kind", s.kind)), h("td", null, s.reason || "—"), h("td", null, s.effective_on || "—"), h("td", null, s.on_card ? "✔ 是" : "✖ 否"))))
        : h("p", { class: "muted" }, "无"),
      h("h3", null, "制证任务"),
      d.jobs && d.jobs.length
        ? table(null, ["任务", "状态", "读卡器", "卡号", "错误"], d.jobs.map((j) => h("tr", null, h("td", null, j.id), h("td", null, j.state_label || label("job_state", j.state)), h("td", null, j.reader || "—"), h("td", null, j.card_serial || "—"), h("td", null, j.error_label || j.error || "—"))))
        : h("p", { class: "muted" }, "无"),
    );
    // A missing registered photo answers 404: say so instead of a broken image.
    const img = box.querySelector("img.photo");
    img.addEventListener("error", () => img.replaceWith(h("p", { class: "muted" }, "没有登记照片")));
  });
}

export function renderRecords(page, { params }) {
  add(page, h("h1", { tabindex: "-1" }, "记录"));
  const detail = h("section", { class: "panel", id: "record-detail", hidden: true, "aria-labelledby": "detail-h" });

  if (can("view_records")) {
    const q = h("input", { type: "search", id: "records-q" });
    const st = select([["", "全部状态"], ...labelEntries("certificate_state")], { id: "records-state" });
    const go = h("button", { type: "submit", class: "btn" }, "查找");
    const out = h("div", { id: "records-list" });
    const form = h(
      "form",
      { class: "panel", role: "search", "aria-labelledby": "search-h" },
      h("h2", { id: "search-h" }, "查找证件"),
      h("div", { class: "cols" }, field("姓名、公民身份号码或证号", q), field("状态", st)),
      h("div", { class: "actions" }, go),
      out,
    );
    const search = () =>
      busy(go, "正在查找…", async () => {
        const p = new URLSearchParams();
        if (q.value.trim()) p.set("q", q.value.trim());
        if (st.value) p.set("state", st.value);
        const list = await get(`certificates?${p}`);
        clear(out);
        add(out, 
          list.length
            ? table(
                `找到 ${list.length} 条`,
                ["证号", "姓名", "公民身份号码", "执法单位", "证件类型", "状态", "有效期至", "卡号", "详情"],
                list.map((c) =>
                  h(
                    "tr",
                    null,
                    // Names, numbers and dates never break inside: a squeezed column
                    // otherwise shows a name one character per line.
                    h("td", { class: "nowrap" }, c.number),
                    h("td", { class: "nowrap", "data-name": "" }, c.name),
                    h("td", { class: "nowrap" }, c.id_number),
                    h("td", null, c.unit),
                    h("td", null, label("certificate_kind", c.kind)),
                    h("td", null, c.state_label || label("certificate_state", c.state)),
                    h("td", { class: "nowrap" }, c.valid_until),
                    h("td", { class: "nowrap" }, c.card_serial || "—"),
                    h("td", null, h("a", { href: `#/records?id=${c.id}`, "aria-label": `查看 ${c.name} 的详情` }, "详情")),
                  ),
                ),
              )
            : h("p", null, "没有找到符合条件的证件。"),
        );
      });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      search();
    });
    // A record opened by link comes first; the search stays below it.
    add(page, detail, form);
    const id = Number(params.get("id"));
    if (id) {
      detail.hidden = false;
      renderDetail(detail, id)
        .then(() => document.getElementById("detail-h").focus())
        .catch(showError);
    }
    search();

    // Revocation list and sync state.
    const rev = h("div", { id: "revocations" });
    add(page, h("section", { class: "panel", "aria-labelledby": "rev-h" }, h("h2", { id: "rev-h" }, "注销名单"), rev));
    get("revocations")
      .then((r) => {
        add(rev, 
          h("p", null, r.list_date ? `注销名单日期：${r.list_date}` : "尚未收到省级注销名单（只有本站记录）"),
          r.entries.length
            ? table(null, ["证号", "卡号", "原因", "自", "来源"], r.entries.map((x) => h("tr", null, h("td", null, x.number || "—"), h("td", null, x.serial || "—"), h("td", null, x.reason_label || x.reason), h("td", null, x.since), h("td", null, x.source === "local" ? "本站" : x.source))))
            : h("p", { class: "muted" }, "名单为空"),
        );
      })
      .catch((e) => add(rev, h("p", null, `无法加载：${e.message}`)));
  }

  if (can("view_audit")) {
    const body = h("tbody");
    let oldest = null;
    const more = h("button", { type: "button", class: "btn btn-secondary" }, "加载更早的记录");
    const check = h("button", { type: "button", class: "btn btn-secondary" }, "校验审计链");
    const checkOut = h("p", { id: "audit-verify", "aria-live": "polite" });
    const load = () =>
      busy(more, "正在加载…", async () => {
        const rows = await get(`audit?limit=100${oldest !== null ? `&before=${oldest}` : ""}`);
        for (const a of rows) {
          add(body, 
            h(
              "tr",
              null,
              h("td", null, a.seq),
              h("td", { class: "nowrap" }, a.at),
              h("td", null, a.actor),
              h("td", null, a.action_label || label("audit_action", a.action)),
              h("td", null, a.subject || "—"),
              h("td", null, a.detail_label || "—"),
            ),
          );
          oldest = a.seq;
        }
        more.hidden = rows.length < 100;
      });
    more.addEventListener("click", load);
    check.addEventListener("click", () =>
      busy(check, "正在校验…", async () => {
        const r = await get("audit/verify");
        checkOut.textContent = r.first_broken
          ? `✖ 审计链在第 ${r.first_broken[0]} 条断开：${r.first_broken[1]}`
          : `✔ 共 ${r.rows} 条，哈希链完整`;
        if (!r.first_broken) showNotice(checkOut.textContent);
      }),
    );
    add(page, 
      h(
        "section",
        { class: "panel", "aria-labelledby": "audit-h" },
        h("h2", { id: "audit-h" }, "审计日志"),
        h("div", { class: "actions" }, check),
        checkOut,
        h("div", { class: "table-wrap" }, h("table", { id: "audit" }, h("thead", null, h("tr", null, ["序号", "时间", "操作员", "操作", "对象", "详情"].map((t) => h("th", { scope: "col" }, t)))), body)),
        h("div", { class: "actions" }, more),
      ),
    );
    load();
  }
}
