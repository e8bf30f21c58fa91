// 制证: the approved list, one card at a chosen reader, batches with per-card
// progress (SSE `job` events + GET /batches/{id}), the list of open and recent batches
// (GET /batches) with 查看 / 继续写卡, and resuming interrupted jobs.
import { get, post } from "./api.js";
import { bus, busy, showError, showNotice, state } from "./core.js";
import { readerPanel } from "./readers.js";
import { add, h, clear, field, checkbox, table, label, today } from "./dom.js";

// Before GET /batches existed the page remembered the last batch in localStorage.
const OLD_BATCH_KEY = "ecard.lastBatch";

/** "2026-11-23T13:09:32.188Z" → local "2026-11-23 21:09" (as given when unparseable). */
function localTime(at) {
  if (!at) return "—";
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function batchReaders(chosen, panel) {
  const readers = [...chosen];
  if (!readers.length && panel.selected()) readers.push(panel.selected());
  if (!readers.length) throw new Error("请在「使用的读卡器」中至少选择一台读卡器");
  return readers;
}

export function renderIssue(page, { signal }) {
  const panel = readerPanel({ signal, legend: "写卡使用的读卡器" });
  const listBox = h("div", { id: "approved" }, h("p", { class: "muted" }, "正在加载…"));
  const result = h("div", { id: "issue-result", "aria-live": "polite" });
  const picked = new Set();

  async function loadApproved() {
    const list = await get("certificates?state=approved");
    clear(listBox);
    if (!list.length) {
      add(listBox, h("p", null, "没有待制证的证件。导入花名册或在「记录」中查看已制证件。"));
      return;
    }
    for (const id of [...picked]) if (!list.some((c) => c.id === id)) picked.delete(id);
    const rows = list.map((c) => {
      const box = checkbox(`选择 ${c.name}`, { "data-cert": c.id, checked: picked.has(c.id) });
      box.el.classList.add("nowrap");
      box.input.addEventListener("change", () => {
        if (box.input.checked) picked.add(c.id);
        else picked.delete(c.id);
      });
      const write = h(
        "button",
        { type: "button", class: "btn btn-small", "data-issue": c.id, "aria-label": `为 ${c.name}（${c.number}）写卡` },
        "写卡",
      );
      write.addEventListener("click", () => issueOne(c, write));
      return h(
        "tr",
        { "data-cert-row": c.id },
        h("td", null, box.el),
        h("td", null, c.number),
        h("td", null, c.name),
        h("td", null, c.id_number),
        h("td", null, c.unit),
        h("td", null, label("certificate_kind", c.kind)),
        h("td", null, c.valid_until),
        h("td", null, write),
      );
    });
    add(listBox, table(`待制证 ${list.length} 人`, ["批量", "证号", "姓名", "公民身份号码", "执法单位", "证件类型", "有效期至", "操作"], rows, { id: "approved-table" }));
  }

  function showIssued(r, who) {
    clear(result);
    add(result, 
      h(
        "div",
        { class: "panel", "data-serial": r.serial, "data-number": r.number, "data-certificate": r.certificate_id, "data-family": r.family || "" },
        h("h2", { tabindex: "-1", id: "issue-result-h" }, h("span", { "aria-hidden": "true" }, "✔ "), "写卡完成"),
        h("p", null, `${who ? `${who}，` : ""}证号 ${r.number}，${r.family_label ? `${r.family_label}，` : ""}卡号 ${r.serial}，写入后核验：${r.standing_label || r.standing}。`),
        r.resumed_without_rewrite ? h("p", null, "卡片此前已写完，本次只补完记录，未重写。") : null,
        h("p", { class: "muted" }, `卡片指令 ${r.apdus ?? "—"} 条。`),
        h("p", null, h("a", { href: "#/verify" }, "去验证这张卡"), " · ", h("a", { href: `#/records?id=${r.certificate_id}` }, "查看证件记录")),
      ),
    );
    showNotice(`写卡完成：卡号 ${r.serial}`);
  }

  function issueOne(c, button) {
    return busy(button, "正在写卡…", async () => {
      const reader = panel.selected();
      if (!reader) throw new Error("请先选择读卡器");
      const r = await post("issue", { certificate_id: c.id, reader });
      showIssued(r, c.name);
      await Promise.all([loadApproved(), loadInterrupted()]);
      // The row (and its button, which had focus) is gone from the list: focus moves
      // to the result instead of falling back to the page body.
      const heading = document.getElementById("issue-result-h");
      if (heading) heading.focus();
    });
  }

  // Batch.
  const batchName = h("input", { type: "text", id: "batch-name", value: `${today()} 批次`, required: true });
  const readerChecks = h("div", { id: "batch-readers" });
  const chosenForBatch = new Set();
  function fillReaderChecks() {
    clear(readerChecks);
    if (chosenForBatch.size === 0 && state.chosenReader) chosenForBatch.add(state.chosenReader);
    for (const r of state.readers) {
      const b = checkbox(r.name, { value: r.name, checked: chosenForBatch.has(r.name) });
      b.input.addEventListener("change", () => {
        if (b.input.checked) chosenForBatch.add(r.name);
        else chosenForBatch.delete(r.name);
      });
      add(readerChecks, b.el);
    }
  }
  bus.addEventListener("readers", () => {
    const names = state.readers.map((r) => r.name).join("\n");
    if (readerChecks.dataset.names !== names) {
      readerChecks.dataset.names = names;
      fillReaderChecks();
    }
  }, { signal });
  const printEncode = checkbox("边写卡边打印卡面（所选读卡器须是制证打印机的内置写卡器，由管理员在「设置」中配对）", { id: "batch-print-encode" });
  const startBatch = h("button", { type: "submit", class: "btn", id: "batch-start" }, "开始批量制证");
  const batchForm = h(
    "form",
    { class: "panel", "aria-labelledby": "batch-h" },
    h("h2", { id: "batch-h" }, "批量制证"),
    h("p", null, "在上表勾选人员，选择一台或多台读卡器。每台读卡器依次等待空白卡：放入空白卡即写下一张。"),
    field("批次名称", batchName),
    h("fieldset", null, h("legend", null, "使用的读卡器"), readerChecks),
    printEncode.el,
    h("div", { class: "actions" }, startBatch),
  );
  batchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(startBatch, "正在创建批次…", async () => {
      const ids = [...picked];
      if (!ids.length) throw new Error("请先在待制证列表中勾选至少一人");
      const readers = [...chosenForBatch];
      if (!readers.length) throw new Error("请至少选择一台读卡器");
      const r = await post("batches", {
        name: batchName.value.trim(),
        certificate_ids: ids,
        readers,
        print_encode: printEncode.input.checked,
      });
      picked.clear();
      showNotice(`批次 ${r.batch_id} 已开始，请向读卡器放入空白卡`);
      await loadBatch(r.batch_id);
      await Promise.all([loadApproved(), loadBatches()]);
    });
  });

  const batchBox = h("section", { class: "panel", id: "batch-progress", "aria-labelledby": "bp-h", hidden: true });
  let currentBatch = null;
  let batchTimer = null;
  async function resumeBatch(id, button) {
    return busy(button, "正在继续…", async () => {
      const readers = batchReaders(chosenForBatch, panel);
      await post(`batches/${id}/resume`, { readers });
      showNotice(`批次 ${id} 已继续，请向 ${readers.join("、")} 放入卡片`);
      await Promise.all([loadBatch(id), loadBatches()]);
    });
  }
  async function loadBatch(id) {
    currentBatch = id;
    const b = await get(`batches/${id}`);
    clear(batchBox);
    batchBox.hidden = false;
    batchBox.dataset.batch = String(b.batch_id);
    const progress = h("progress", { max: b.total, value: b.done, id: "batch-bar", "aria-labelledby": "bp-summary" });
    const resume = h("button", { type: "button", class: "btn" }, "用所选读卡器继续写卡");
    resume.addEventListener("click", () => resumeBatch(id, resume));
    add(batchBox, 
      h("h2", { id: "bp-h", tabindex: "-1" }, `批次 ${b.batch_id} 进度`),
      h("p", { id: "bp-summary" }, `共 ${b.total} 张：完成 ${b.done}，排队 ${b.queued}，写卡中 ${b.writing}，中断 ${b.interrupted}，失败 ${b.failed}` +
        (b.print_encode ? `，废卡 ${b.spoiled}（边写卡边打印）` : "")),
      b.spoiled > 0
        ? h("p", { id: "bp-spoiled", role: "note" }, `⚠ ${b.spoiled} 张废卡：写芯片失败或写后核验未通过，卡号已列入注销名单，不得发放；相应人员已改用下一张空白卡。`)
        : null,
      progress,
      table(
        null,
        ["证号", "姓名", "状态", "读卡器", "卡号", "卡面", "错误"],
        (b.jobs || []).map((j) =>
          h(
            "tr",
            { "data-job": j.id, "data-state": j.state, "data-spoiled": j.spoiled ? "1" : "0" },
            h("td", null, j.number),
            h("td", null, j.name),
            h("td", null, j.spoiled ? "✖ 废卡（卡号已作废，不得发放）" : j.state_label || label("job_state", j.state)),
            h("td", null, j.reader || "—"),
            h("td", null, j.card_serial || "—"),
            h("td", null, j.face_print ? (j.spoiled ? `已打印，随卡作废（${j.face_print}）` : `已打印（${j.face_print}）`) : "—"),
            h("td", null, j.error_label || j.error || "—"),
          ),
        ),
      ),
      b.interrupted > 0 || b.failed > 0 || b.queued > 0 ? h("div", { class: "actions" }, resume) : null,
    );
  }

  // Open and recent batches (newest first).
  const batchesBox = h("div", { id: "batches" }, h("p", { class: "muted" }, "正在加载…"));
  function batchState(b) {
    const parts = [];
    if (b.open > 0) parts.push(`未完成 ${b.open}`);
    if (b.interrupted > 0) parts.push(`⚠ 中断 ${b.interrupted}`);
    if (b.failed > 0) parts.push(`✖ 失败 ${b.failed}`);
    if (b.spoiled > 0) parts.push(`✖ 废卡 ${b.spoiled}`);
    if (!parts.length) return b.done + b.spoiled === b.total ? "✔ 全部完成" : "已结束";
    return parts.join("，");
  }
  async function loadBatches() {
    const list = await get("batches");
    clear(batchesBox);
    if (!list.length) {
      add(batchesBox, h("p", null, "还没有批次。在上表勾选人员后开始批量制证。"));
      return list;
    }
    const rows = list.map((b) => {
      const title = b.name || `批次 ${b.batch_id}`;
      const view = h(
        "button",
        { type: "button", class: "btn btn-small btn-secondary", "data-view-batch": b.batch_id, "aria-label": `查看批次 ${b.batch_id}（${title}）的进度` },
        "查看",
      );
      view.addEventListener("click", () =>
        busy(view, "正在加载批次…", async () => {
          await loadBatch(b.batch_id);
          batchBox.scrollIntoView({ block: "start" });
          document.getElementById("bp-h").focus();
        }),
      );
      let resume = null;
      if (b.open > 0 || b.interrupted > 0) {
        resume = h(
          "button",
          { type: "button", class: "btn btn-small", "data-resume-batch": b.batch_id, "aria-label": `用所选读卡器继续写卡：批次 ${b.batch_id}（${title}）` },
          "继续写卡",
        );
        resume.addEventListener("click", () => resumeBatch(b.batch_id, resume));
      }
      return h(
        "tr",
        { "data-batch": b.batch_id, "data-done": b.done, "data-total": b.total },
        h("td", null, b.batch_id),
        h("td", null, title),
        h("td", null, b.created_by || "—"),
        h("td", null, localTime(b.created_at)),
        h("td", null, `完成 ${b.done}/${b.total}`),
        h("td", null, batchState(b)),
        h("td", null, h("div", { class: "actions" }, view, resume)),
      );
    });
    add(
      batchesBox,
      table(`共 ${list.length} 个批次，最新的在前`, ["批次", "名称", "创建人", "创建时间", "进度", "状态", "操作"], rows, { id: "batches-table" }),
      h("p", { class: "hint" }, "「继续写卡」使用上方「使用的读卡器」中勾选的读卡器（未勾选时用页首所选的读卡器）。"),
    );
    return list;
  }

  let listTimer = null;
  bus.addEventListener("job", (e) => {
    const d = e.detail;
    if (d.batch_id && d.batch_id === currentBatch) {
      window.clearTimeout(batchTimer);
      batchTimer = window.setTimeout(() => loadBatch(currentBatch).catch(showError), 250);
    }
    if (d.batch_id) {
      window.clearTimeout(listTimer);
      listTimer = window.setTimeout(() => loadBatches().catch(() => {}), 300);
    }
    if (d.state === "interrupted" || d.state === "verified") loadInterrupted().catch(() => {});
    if (d.state === "verified") loadApproved().catch(() => {});
  }, { signal });

  // Interrupted jobs.
  const interruptedBox = h("div", { id: "interrupted" });
  async function loadInterrupted() {
    const jobs = await get("jobs?state=interrupted");
    clear(interruptedBox);
    if (!jobs.length) {
      add(interruptedBox, h("p", { class: "muted" }, "没有中断的任务。"));
      return;
    }
    add(interruptedBox, 
      table(
        null,
        ["任务", "证号", "姓名", "读卡器", "卡号", "原因", "操作"],
        jobs.map((j) => {
          const btn = h("button", { type: "button", class: "btn btn-small", "aria-label": `继续任务 ${j.id}（${j.name || j.number}）` }, "用所选读卡器继续");
          btn.addEventListener("click", () =>
            busy(btn, "正在写卡…", async () => {
              const reader = panel.selected();
              if (!reader) throw new Error("请先选择读卡器");
              const r = await post(`jobs/${j.id}/resume`, { reader });
              showIssued(r, j.name);
              await Promise.all([loadInterrupted(), loadApproved()]);
            }),
          );
          return h(
            "tr",
            { "data-job": j.id },
            h("td", null, j.id),
            h("td", null, j.number || "—"),
            h("td", null, j.name || "—"),
            h("td", null, j.reader || "—"),
            h("td", null, j.card_serial || "—"),
            h("td", null, j.error || "—"),
            h("td", null, btn),
          );
        }),
      ),
      h("p", { class: "hint" }, "放回同一张卡：补完或擦除重写；换一张空白卡：原卡号作废。"),
    );
  }

  add(page, 
    h("h1", { tabindex: "-1" }, "制证"),
    h("div", { class: "panel" }, panel.el),
    result,
    h("section", { class: "panel", "aria-labelledby": "approved-h" }, h("h2", { id: "approved-h" }, "待制证"), listBox),
    batchForm,
    h("section", { class: "panel", "aria-labelledby": "batches-h" }, h("h2", { id: "batches-h" }, "进行中与最近的批次"), batchesBox),
    batchBox,
    h("section", { class: "panel", "aria-labelledby": "int-h" }, h("h2", { id: "int-h" }, "中断的任务"), interruptedBox),
  );
  fillReaderChecks();
  loadApproved().catch((e) => {
    clear(listBox);
    add(listBox, h("p", null, `无法加载待制证列表：${e.message}`));
    showError(e);
  });
  loadInterrupted().catch((e) => {
    clear(interruptedBox);
    add(interruptedBox, h("p", null, `无法加载中断任务：${e.message}`));
  });
  localStorage.removeItem(OLD_BATCH_KEY);
  // Coming back to the page shows the newest batch that still has cards to write.
  loadBatches()
    .then((list) => {
      const open = list.find((b) => b.open > 0 || b.interrupted > 0);
      if (open && currentBatch === null) return loadBatch(open.batch_id);
      return undefined;
    })
    .catch((e) => {
      clear(batchesBox);
      add(batchesBox, h("p", null, `无法加载批次列表：${e.message}`));
    });
}
