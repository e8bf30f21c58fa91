// 制证: the approved list, one card at a chosen reader, batches with per-card
// progress (SSE `job` events + GET /batches/{id}), and resuming interrupted jobs.
import { get, post } from "./api.js";
import { bus, busy, showError, showNotice, state } from "./core.js";
import { readerPanel } from "./readers.js";
import { add, h, clear, field, checkbox, table, label, today, KIND, JOB_STATE } from "./dom.js";

const BATCH_KEY = "ecard.lastBatch";

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
        h("td", null, label(KIND, c.kind)),
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
        { class: "panel", "data-serial": r.serial, "data-number": r.number, "data-certificate": r.certificate_id },
        h("h2", null, "✔ 写卡完成"),
        h("p", null, `${who ? `${who}，` : ""}证号 ${r.number}，卡号 ${r.serial}，写入后核验：${r.standing_label || r.standing}。`),
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
  const startBatch = h("button", { type: "submit", class: "btn", id: "batch-start" }, "开始批量制证");
  const batchForm = h(
    "form",
    { class: "panel", "aria-labelledby": "batch-h" },
    h("h2", { id: "batch-h" }, "批量制证"),
    h("p", null, "在上表勾选人员，选择一台或多台读卡器。每台读卡器依次等待空白卡：放入空白卡即写下一张。"),
    field("批次名称", batchName),
    h("fieldset", null, h("legend", null, "使用的读卡器"), readerChecks),
    h("div", { class: "actions" }, startBatch),
  );
  batchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(startBatch, "正在创建批次…", async () => {
      const ids = [...picked];
      if (!ids.length) throw new Error("请先在待制证列表中勾选至少一人");
      const readers = [...chosenForBatch];
      if (!readers.length) throw new Error("请至少选择一台读卡器");
      const r = await post("batches", { name: batchName.value.trim(), certificate_ids: ids, readers });
      picked.clear();
      localStorage.setItem(BATCH_KEY, String(r.batch_id));
      showNotice(`批次 ${r.batch_id} 已开始，请向读卡器放入空白卡`);
      await loadBatch(r.batch_id);
      await loadApproved();
    });
  });

  const batchBox = h("section", { class: "panel", id: "batch-progress", "aria-labelledby": "bp-h", hidden: true });
  let currentBatch = null;
  let batchTimer = null;
  async function loadBatch(id) {
    currentBatch = id;
    const b = await get(`batches/${id}`);
    clear(batchBox);
    batchBox.hidden = false;
    const progress = h("progress", { max: b.total, value: b.done, id: "batch-bar", "aria-labelledby": "bp-summary" });
    const resume = h("button", { type: "button", class: "btn" }, "用所选读卡器继续批次");
    resume.addEventListener("click", () =>
      busy(resume, "正在继续…", async () => {
        const readers = [...chosenForBatch];
        if (!readers.length) throw new Error("请至少选择一台读卡器");
        await post(`batches/${id}/resume`, { readers });
        showNotice(`批次 ${id} 已继续，请放入卡片`);
        await loadBatch(id);
      }),
    );
    add(batchBox, 
      h("h2", { id: "bp-h" }, `批次 ${b.batch_id} 进度`),
      h("p", { id: "bp-summary" }, `共 ${b.total} 张：完成 ${b.done}，排队 ${b.queued}，写卡中 ${b.writing}，中断 ${b.interrupted}，失败 ${b.failed}`),
      progress,
      table(
        null,
        ["证号", "姓名", "状态", "读卡器", "卡号", "错误"],
        (b.jobs || []).map((j) =>
          h(
            "tr",
            { "data-job": j.id, "data-state": j.state },
            h("td", null, j.number),
            h("td", null, j.name),
            h("td", null, JOB_STATE[j.state] || j.state),
            h("td", null, j.reader || "—"),
            h("td", null, j.card_serial || "—"),
            h("td", null, j.error || "—"),
          ),
        ),
      ),
      b.interrupted > 0 || b.failed > 0 ? h("div", { class: "actions" }, resume) : null,
    );
  }
  bus.addEventListener("job", (e) => {
    const d = e.detail;
    if (d.batch_id && d.batch_id === currentBatch) {
      window.clearTimeout(batchTimer);
      batchTimer = window.setTimeout(() => loadBatch(currentBatch).catch(showError), 250);
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
  const last = Number(localStorage.getItem(BATCH_KEY));
  if (last) loadBatch(last).catch(() => localStorage.removeItem(BATCH_KEY));
}
