// Choosing a certificate: read the card in the chosen reader, or search the records.
import { get, post } from "./api.js";
import { busy, showNotice } from "./core.js";
import { add, h, clear, field, select, table, label, labelEntries } from "./dom.js";

/**
 * `panel` is a readerPanel; `onPick(detail)` receives GET /certificates/{id}.
 * `stateFilter` preselects the search's state ("" = any).
 */
export function certificatePicker({ panel, onPick, stateFilter = "" }) {
  const chosen = h("div", { id: "chosen-cert", "aria-live": "polite" }, h("p", { class: "muted" }, "尚未选择证件。"));
  let current = null;

  async function pick(id, how) {
    const detail = await get(`certificates/${id}`);
    current = detail;
    clear(chosen);
    add(chosen, 
      h(
        "p",
        { "data-certificate": detail.id },
        h("strong", null, "已选择："),
        `${detail.holder.name}，证号 ${detail.certificate.number}（${label("certificate_kind", detail.certificate.kind)}），${detail.state_label || label("certificate_state", detail.state)}`,
        detail.cards && detail.cards.length ? `，卡号 ${detail.cards.map((c) => c.serial).join("、")}` : "",
      ),
    );
    showNotice(`${how}：${detail.holder.name}（${detail.certificate.number}）`);
    onPick(detail);
  }

  const readBtn = h("button", { type: "button", class: "btn", id: "pick-read" }, "读卡识别证件");
  readBtn.addEventListener("click", () =>
    busy(readBtn, "正在读卡…", async () => {
      const reader = panel.selected();
      if (!reader) throw new Error("请先选择读卡器");
      const v = await post("verify", { reader });
      if (!v.record) throw new Error(`卡片 ${v.serial} 在本站没有证件记录，请改用查找`);
      await pick(v.record.certificate_id, `已读卡（${v.family_label ? `${v.family_label}，` : ""}${v.standing_label}）`);
    }),
  );

  const q = h("input", { type: "search", id: "pick-q", autocomplete: "off" });
  const st = select(
    [["", "全部状态"], ...labelEntries("certificate_state")],
    { id: "pick-state" },
  );
  st.value = stateFilter;
  const find = h("button", { type: "submit", class: "btn btn-secondary" }, "查找");
  const results = h("div", { id: "pick-results" });
  const form = h(
    "form",
    { role: "search", "aria-label": "查找证件" },
    h("div", { class: "cols" }, field("姓名、公民身份号码或证号", q), field("状态", st)),
    h("div", { class: "actions" }, find),
    results,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(find, "正在查找…", async () => {
      const params = new URLSearchParams();
      if (q.value.trim()) params.set("q", q.value.trim());
      if (st.value) params.set("state", st.value);
      const list = await get(`certificates?${params}`);
      clear(results);
      if (!list.length) {
        add(results, h("p", null, "没有找到符合条件的证件。"));
        return;
      }
      add(results, 
        table(
          `找到 ${list.length} 条`,
          ["证号", "姓名", "执法单位", "状态", "卡号", "操作"],
          list.map((c) => {
            const b = h("button", { type: "button", class: "btn btn-small", "aria-label": `选择 ${c.name}（${c.number}）` }, "选择");
            b.addEventListener("click", () => busy(b, "正在加载…", () => pick(c.id, "已选择")));
            return h(
              "tr",
              null,
              h("td", null, c.number),
              h("td", null, c.name),
              h("td", null, c.unit),
              h("td", null, c.state_label || label("certificate_state", c.state)),
              h("td", null, c.card_serial || "—"),
              h("td", null, b),
            );
          }),
        ),
      );
    });
  });

  const el = h(
    "section",
    { class: "panel", "aria-labelledby": "pick-h" },
    h("h2", { id: "pick-h" }, "选择证件"),
    h("div", { class: "actions" }, readBtn, h("span", { class: "hint" }, "读取所选读卡器中的卡片，找到本站的证件记录")),
    h("h3", null, "或查找"),
    form,
    chosen,
  );
  return {
    el,
    current: () => current,
    pick: (id) => pick(id, "已选择"),
    reload: () => (current ? pick(current.id, "已更新") : Promise.resolve()),
  };
}
