// The live reader panel (used on 读卡器, 制证, 验证, 年审 and 状态变更) and the 读卡器 page.
import { enc, get, post } from "./api.js";
import { bus, busy, can, refreshReaders, showNotice, state } from "./core.js";
import { add, h, clear, uid, label } from "./dom.js";

let tray = [];
let trayInFlight = null;

function refreshTray() {
  if (!state.readers.some((r) => r.simulated)) return Promise.resolve(tray);
  if (trayInFlight) return trayInFlight;
  trayInFlight = get("demo/tray")
    .then((t) => {
      tray = Array.isArray(t) ? t : [];
      bus.dispatchEvent(new CustomEvent("tray"));
      return tray;
    })
    .catch(() => tray)
    .finally(() => {
      trayInFlight = null;
    });
  return trayInFlight;
}

/** A card on the tray: its serial, which family it is (a PIV card and a native card
 *  look alike on the tray) and how far it was written, as the station words them
 *  (GET /demo/tray). */
function trayText(t) {
  const about = [t.family_label, t.life_cycle].filter(Boolean).join("，");
  return about ? `${t.serial}（${about}）` : t.serial;
}

export const READER_EVENT = {
  reader_added: "读卡器已接入",
  reader_removed: "读卡器已移除",
  card_inserted: "已插入卡片",
  card_removed: "卡片已取出",
  service_down: "读卡服务中断",
  service_up: "读卡服务已恢复",
};

/**
 * The reader panel. With `selectable`, one reader is chosen by a radio button
 * (remembered across pages in state.chosenReader); `selected()` returns its name.
 * Demo buttons appear for simulated readers. Rows are updated in place when the
 * event stream reports a change, so keyboard focus is never thrown away.
 */
/** A tag's text: the symbol is for the eye only (a screen reader would read
 *  "white square"), the word carries the state. */
function tagText(tag, symbol, word) {
  clear(tag);
  if (symbol) add(tag, h("span", { "aria-hidden": "true" }, `${symbol} `));
  add(tag, word);
}

export function readerPanel({ signal, selectable = true, legend = "选择读卡器" }) {
  const group = uid("reader");
  const list = h("div", { class: "readers" });
  const empty = h("p", { class: "muted" }, "正在读取读卡器列表…");
  const service = h("p", { class: "tag tag-bad", hidden: true }, "✖ 读卡服务（pcscd）不可用，请检查读卡器服务");
  const root = selectable
    ? h("fieldset", { class: "reader-panel" }, h("legend", null, legend), service, empty, list)
    : h("div", { class: "reader-panel" }, service, empty, list);
  const rows = new Map();
  // A card put in or taken out changes the panel silently; the pages that act on a
  // card (制证, 验证, 年审, 注销) say it aloud. The 读卡器 page has its own event log.
  const spoken = h("p", { class: "sr-only", role: "status", "data-role": "reader-announce" });
  if (selectable) {
    add(root, spoken);
    bus.addEventListener("reader-event", (e) => {
      const d = e.detail;
      if (d.event !== "card_inserted" && d.event !== "card_removed") return;
      spoken.textContent = `「${d.reader}」${READER_EVENT[d.event]}`;
    }, { signal });
  }

  function makeRow(reader) {
    const name = reader.name;
    const cardTag = h("span", { class: "tag" });
    const busyTag = h("span", { class: "tag" });
    // One level below the page's last heading: the 读卡器 page's panel sits under
    // an h2, the pages that pick a reader put the panel right under their h1.
    const title = h(selectable ? "h2" : "h3", { class: "reader-name" }, name, reader.simulated ? h("span", { class: "tag tag-neutral" }, "模拟") : null);
    const card = h("div", { class: "reader", dataset: { reader: name } }, h("div", { class: "reader-head" }, title, h("div", { class: "state" }, cardTag, busyTag)));
    let radioInput = null;
    if (selectable) {
      radioInput = h("input", { type: "radio", name: group, value: name, id: uid("pick") });
      radioInput.addEventListener("change", () => {
        if (radioInput.checked) {
          state.chosenReader = name;
          markChosen();
        }
      });
      add(card, h("div", null, h("label", { class: "choice", for: radioInput.id }, radioInput, `使用「${name}」`)));
    }
    let traySelect = null;
    if (reader.simulated && can("read_readers")) {
      const insertBlank = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-action": "insert-blank" }, "放入空白卡");
      insertBlank.addEventListener("click", () =>
        busy(insertBlank, "正在放入…", async () => {
          await post(`demo/readers/${enc(name)}/insert-blank`);
          await refreshReaders();
          showNotice(`已在「${name}」放入一张空白卡`);
        }),
      );
      // A PIV card as a bureau buys it (factory keys; docs/PROFILE-PIV.md).
      const insertPiv = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-action": "insert-blank-piv" }, "放入空白 PIV 卡");
      insertPiv.addEventListener("click", () =>
        busy(insertPiv, "正在放入…", async () => {
          await post(`demo/readers/${enc(name)}/insert-blank-piv`);
          await refreshReaders();
          showNotice(`已在「${name}」放入一张空白 PIV 标准卡`);
        }),
      );
      const eject = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-action": "eject" }, "取出卡片");
      eject.addEventListener("click", () =>
        busy(eject, "正在取出…", async () => {
          const out = await post(`demo/readers/${enc(name)}/eject`);
          await Promise.all([refreshReaders(), refreshTray()]);
          // The serial is the one the tray lists the card by (a PIV card's from its CHUID).
          showNotice(out && out.serial ? `已从「${name}」取出卡片 ${out.serial}，放入托盘` : `「${name}」中没有卡片`);
        }),
      );
      traySelect = h("select", { id: uid("tray"), "data-role": "tray" });
      const putBack = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-action": "insert" }, "放回所选卡片");
      putBack.addEventListener("click", () =>
        busy(putBack, "正在放回…", async () => {
          const serial = traySelect.value;
          if (!serial) throw new Error("托盘中没有卡片，请先取出一张卡");
          await post(`demo/readers/${enc(name)}/insert`, { serial });
          await Promise.all([refreshReaders(), refreshTray()]);
          showNotice(`已将卡片 ${serial} 放回「${name}」`);
        }),
      );
      add(card, 
        h(
          "div",
          { class: "demo-controls" },
          insertBlank,
          insertPiv,
          eject,
          // The tray's label, list and button wrap as one, never the label alone.
          h("span", { class: "tray-group" }, h("label", { for: traySelect.id }, "托盘中的卡片"), traySelect, putBack),
        ),
      );
    }
    const row = { card, cardTag, busyTag, radioInput, traySelect };
    rows.set(name, row);
    return row;
  }

  function fillTray(sel) {
    if (!sel) return;
    const keep = sel.value;
    clear(sel);
    if (tray.length === 0) add(sel, h("option", { value: "" }, "（托盘为空）"));
    for (const t of tray) add(sel, h("option", { value: t.serial, "data-family": t.family || "" }, trayText(t)));
    if (tray.some((t) => t.serial === keep)) sel.value = keep;
  }

  function markChosen() {
    for (const [name, row] of rows) {
      row.card.classList.toggle("chosen", selectable && name === state.chosenReader);
      if (row.radioInput) row.radioInput.checked = name === state.chosenReader;
    }
  }

  function update() {
    service.hidden = state.serviceUp;
    const names = new Set(state.readers.map((r) => r.name));
    for (const [name, row] of rows) {
      if (!names.has(name)) {
        row.card.remove();
        rows.delete(name);
      }
    }
    for (const r of state.readers) {
      const row = rows.get(r.name) || makeRow(r);
      if (!row.card.isConnected) add(list, row.card);
      row.cardTag.className = `tag ${r.card_present ? "tag-ok" : "tag-neutral"}`;
      tagText(row.cardTag, r.card_present ? "▣" : "□", r.card_present ? "有卡" : "无卡");
      row.busyTag.className = `tag ${r.busy ? "tag-warn" : "tag-neutral"}`;
      tagText(row.busyTag, r.busy ? "⟳" : null, r.busy ? "正在操作" : "空闲");
      fillTray(row.traySelect);
    }
    empty.hidden = state.readers.length > 0;
    empty.textContent = "未发现读卡器。请连接读卡器后稍候，列表会自动更新。";
    if (selectable && !names.has(state.chosenReader) && state.readers.length > 0) {
      state.chosenReader = state.readers[0].name;
    }
    markChosen();
  }

  bus.addEventListener("readers", () => {
    update();
    refreshTray();
  }, { signal });
  bus.addEventListener("tray", () => {
    for (const row of rows.values()) fillTray(row.traySelect);
  }, { signal });
  if (state.readers.length) update();
  refreshReaders()
    .then(() => refreshTray())
    .catch((e) => {
      empty.textContent = `无法读取读卡器列表：${e.message}`;
    });

  return {
    el: root,
    selected() {
      return selectable ? state.chosenReader : null;
    },
    reader(name) {
      return state.readers.find((r) => r.name === name) || null;
    },
  };
}

export function renderReaders(page, { signal }) {
  const panel = readerPanel({ signal, selectable: false });
  // The live region wraps the list: role=log on the <ol> itself would take away its
  // list semantics (axe-core: aria-allowed-role, listitem).
  const log = h("ol", { class: "event-log", reversed: true });
  const logRegion = h("div", { role: "log", "aria-label": "读卡器事件", "aria-live": "polite" }, log);
  const noEvents = h("p", { class: "muted" }, "尚无事件。插入或取出卡片后会显示在这里。");
  add(page, 
    h("h1", { tabindex: "-1" }, "读卡器"),
    h("p", null, "读卡器和卡片的状态实时更新。模拟读卡器（演示模式）可以放入空白卡（本系统卡或 PIV 标准卡）、取出卡片，或把托盘中的卡片放回。"),
    h("section", { class: "panel", "aria-labelledby": "readers-h" }, h("h2", { id: "readers-h" }, "读卡器状态"), panel.el),
    h("section", { class: "panel", "aria-labelledby": "log-h" }, h("h2", { id: "log-h" }, "实时事件"), noEvents, logRegion),
  );
  const logLine = (text) => {
    noEvents.hidden = true;
    const t = new Date().toLocaleTimeString("zh-CN", { hour12: false });
    log.prepend(h("li", null, `${t} ${text}`));
    while (log.children.length > 50) log.lastChild.remove();
  };
  bus.addEventListener("reader-event", (e) => {
    const d = e.detail;
    logLine(`${d.reader ? `「${d.reader}」` : ""}${READER_EVENT[d.event] || d.event}`);
  }, { signal });
  bus.addEventListener("job", (e) => {
    const d = e.detail;
    logLine(`制证任务 ${d.job_id}${d.reader ? `（${d.reader}）` : ""}：${label("job_state", d.state)}${d.serial ? `，卡号 ${d.serial}` : ""}${d.message ? `，${d.message}` : ""}`);
  }, { signal });
}
