// 设置: station settings, keys, trust list, sync/revocation-list age, operators.
import { del, enc, get, patch, post, put } from "./api.js";
import { busy, can, showError, showNotice } from "./core.js";
import { add, h, clear, field, select, table, facts, labelEntries } from "./dom.js";

function settingsSection() {
  const box = h("div", { id: "settings-box" }, h("p", { class: "muted" }, "正在加载…"));
  const maxAge = h("input", { type: "number", id: "settings-max-age", min: "1", max: "365" });
  const save = h("button", { type: "submit", class: "btn" }, "保存");
  const form = h(
    "form",
    { "aria-labelledby": "age-h" },
    h("h3", { id: "age-h" }, "注销名单时效"),
    field("注销名单最长未更新天数", maxAge, "超过后核验时给出警告"),
    h("div", { class: "actions" }, save),
  );
  function show(s) {
    clear(box);
    if (document.activeElement !== maxAge) maxAge.value = String(s.max_revocation_age_days);
    const keys = s.keys || {};
    const signer = keys.signer;
    add(box, 
      facts([
        ["发证机关（写入卡片的审核单位，来自本站密钥）", s.bureau_name || "尚未生成本站密钥"],
        ["本站密钥", keys.unlocked ? "✔ 已解锁，可以制证和写卡" : "✖ 未解锁：只能核验，不能制证或写卡"],
        ["密钥存储", keys.stored_sealed ? "✔ 已加密保存在本站数据库" : "未保存在本站数据库（演示模式或外部密钥文件）"],
        ["签发证书", signer ? `✔ ${signer.subject}（有效期 ${signer.valid_from} 至 ${signer.valid_until}，上级密钥 ${signer.issuer_key_id}）` : "✖ 未配置"],
      ]),
      h("h3", null, "信任列表（根公钥）"),
      can("manage_trust")
        ? h("p", null, `共 ${(s.trust || []).length} 个根公钥，在下方「信任列表」中添加或删除。`)
        : s.trust && s.trust.length
        ? table(null, ["密钥标识", "名称", "有效期"], s.trust.map((t) => h("tr", null, h("td", null, h("code", null, t.key_id)), h("td", null, t.name), h("td", null, t.valid_from || t.valid_until ? `${t.valid_from || "—"} 至 ${t.valid_until || "—"}` : "—"))))
        : h("p", null, "✖ 信任列表为空：无法核验任何卡片"),
      provinceFacts(s.province),
      form,
    );
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(save, "正在保存…", async () => {
      const n = Number(maxAge.value);
      if (!Number.isInteger(n) || n < 1) throw new Error("请填写正整数天数");
      show(await put("settings", { max_revocation_age_days: n }));
      showNotice("设置已保存");
    });
  });
  get("settings")
    .then(show)
    .catch((e) => {
      clear(box);
      add(box, h("p", null, `无法加载设置：${e.message}`));
    });
  return h("section", { class: "panel", "aria-labelledby": "keys-h" }, h("h2", { id: "keys-h" }, "本站设置与密钥"), box);
}

// The province configuration the station was started with (read-only: the
// deployment edits its file, docs/OPERATIONS.md).
function provinceFacts(p) {
  if (!p) return null;
  const kb = (n) => Math.ceil(n / 1024);
  const photo = p.photo.min_bytes > 0
    ? `${kb(p.photo.min_bytes)}KB 至 ${kb(p.photo.max_bytes)}KB`
    : `不超过 ${kb(p.photo.max_bytes)}KB`;
  return h(
    "div",
    { id: "province-config" },
    h("h3", null, "省份规则（启动时从配置文件载入，只读）"),
    facts([
      ["省份", p.province],
      ["证件编号规则", `${p.numbering_province}：地区代码 ${p.regions} 个，部门代码 ${p.departments} 个（${p.department_digits} 位），序号 ${p.serial_digits} 位`],
      ["编号由单位预填", p.units_prefill_numbers ? "是" : "否（由中心统一编号）"],
      ["照片", `JPG，${photo}，至少 ${p.photo.min_width}×${p.photo.min_height} 像素`],
      ["年审截止日", `次年 ${p.review_deadline_month} 月 ${p.review_deadline_day} 日（如 2026 年度年审在 2027 年该日前完成）`],
      ["退休年龄（起算）", `男 ${p.retirement_male_years} 岁，女 ${p.retirement_female_years} 岁（按渐进式延迟退休规则递增）`],
      ["节假日（工作日计算）", p.holidays.length ? p.holidays.join("、") : "未配置（周一至周五均按工作日计算）"],
      ["调休上班日", p.workdays && p.workdays.length ? p.workdays.join("、") : "未配置（周六、周日均不计工作日）"],
    ]),
  );
}

const ANCHOR_HINT =
  "粘贴省级平台下发的根公钥 JSON，含 name、key_id、public_key、valid_from、valid_until。只含公钥，不含私钥。";

function period(t) {
  return t.valid_from || t.valid_until ? `${t.valid_from || "—"} 至 ${t.valid_until || "—"}` : "—";
}

function trustSection() {
  const list = h("div", { id: "trust" }, h("p", { class: "muted" }, "正在加载…"));
  const confirmBox = h("div", { id: "trust-confirm", class: "panel", hidden: true });
  let anchors = [];
  let asking = null;
  confirmBox.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && asking) closeConfirm(asking);
  });

  function closeConfirm(focusKey) {
    clear(confirmBox);
    confirmBox.hidden = true;
    asking = null;
    if (focusKey) {
      const b = list.querySelector(`button[data-remove-trust="${CSS.escape(focusKey)}"]`);
      if (b) b.focus();
    }
  }

  function askRemove(t) {
    clear(confirmBox);
    confirmBox.hidden = false;
    asking = t.key_id;
    const only = anchors.length === 1;
    const warning = only
      ? `⚠ 「${t.name}」是信任列表中唯一的根公钥。删除后信任列表为空，本站核验的每一张卡都会失败（签发链无法验证），直到重新添加根公钥。`
      : `⚠ 删除「${t.name}」后，由该根公钥签发的卡片核验将失败（签发链无法验证）。`;
    const yes = h("button", { type: "button", class: "btn btn-danger", id: "trust-remove-confirm" }, "确认删除");
    const no = h("button", { type: "button", class: "btn btn-secondary", id: "trust-remove-cancel" }, "取消");
    no.addEventListener("click", () => closeConfirm(t.key_id));
    yes.addEventListener("click", () =>
      busy(yes, "正在删除…", async () => {
        show(await del(`trust/${enc(t.key_id)}`));
        closeConfirm();
        showNotice(`已从信任列表删除「${t.name}」（${t.key_id}）`);
        const heading = document.getElementById("trust-h");
        if (heading) heading.focus();
      }),
    );
    add(
      confirmBox,
      h("div", { role: "group", "aria-labelledby": "trust-confirm-text" },
        h("p", { id: "trust-confirm-text" }, `确认删除根公钥 ${t.key_id}？ ${warning}`),
        h("div", { class: "actions" }, yes, no),
      ),
    );
    no.focus();
  }

  function show(items) {
    anchors = items || [];
    clear(list);
    if (!anchors.length) {
      add(list, h("p", null, "✖ 信任列表为空：本站无法核验任何卡片。请在下方粘贴省级根公钥。"));
      return;
    }
    add(
      list,
      table(
        `共 ${anchors.length} 个根公钥`,
        ["名称", "密钥标识", "有效期", "操作"],
        anchors.map((t) => {
          const remove = h(
            "button",
            { type: "button", class: "btn btn-small btn-danger", "data-remove-trust": t.key_id, "aria-label": `删除根公钥 ${t.name}（${t.key_id}）` },
            "删除",
          );
          remove.addEventListener("click", () => askRemove(t));
          return h(
            "tr",
            { "data-key-id": t.key_id },
            h("td", null, t.name),
            h("td", null, h("code", null, t.key_id)),
            h("td", null, period(t)),
            h("td", null, remove),
          );
        }),
        { id: "trust-table" },
      ),
    );
  }

  const anchorText = h("textarea", { id: "trust-anchor", rows: "6", spellcheck: "false", autocomplete: "off", required: true });
  const addButton = h("button", { type: "submit", class: "btn", id: "trust-add" }, "添加到信任列表");
  const form = h(
    "form",
    { "aria-labelledby": "trust-add-h" },
    h("h3", { id: "trust-add-h" }, "添加根公钥"),
    field("根公钥（JSON）", anchorText, ANCHOR_HINT),
    h("div", { class: "actions" }, addButton),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(addButton, "正在添加…", async () => {
      const text = anchorText.value.trim();
      if (!text) throw new Error("请先粘贴根公钥 JSON");
      let anchor;
      try {
        anchor = JSON.parse(text);
      } catch (_e) {
        throw new Error("粘贴的内容不是有效的 JSON，请检查是否完整复制（包括首尾的大括号）");
      }
      if (!anchor || typeof anchor !== "object" || Array.isArray(anchor)) {
        throw new Error("根公钥应是一个 JSON 对象（{…}），含 name、key_id、public_key、valid_from、valid_until");
      }
      show(await post("trust", anchor));
      anchorText.value = "";
      showNotice(`已添加根公钥「${anchor.name}」（${anchor.key_id}）`);
    });
  });

  get("trust")
    .then(show)
    .catch((e) => {
      clear(list);
      add(list, h("p", null, `无法加载信任列表：${e.message}`));
      showError(e);
    });
  return h(
    "section",
    { class: "panel", "aria-labelledby": "trust-h" },
    h("h2", { id: "trust-h", tabindex: "-1" }, "信任列表"),
    h("p", { class: "hint" }, "本站只信任这里列出的省级根公钥签发的卡片。"),
    list,
    confirmBox,
    form,
  );
}

function syncSection() {
  const box = h("div", { id: "sync-box" }, h("p", { class: "muted" }, "正在加载…"));
  get("sync/status")
    .then((s) => {
      clear(box);
      add(box, 
        facts([
          ["省级平台同步", s.configured ? `✔ 已配置${s.registry_url ? `（${s.registry_url}）` : ""}` : "✖ 未配置（本站只保存本地记录）"],
          ["本站标识", s.station_id || "—"],
          ["上次尝试", s.last_attempt || "从未"],
          ["上次成功同步", s.last_success || "从未"],
          ["上次错误", s.last_error || "无"],
          ["待上传记录", `${s.backlog} 条`],
          [
            "最早未上报记录",
            s.oldest_unsent_on == null
              ? "无"
              : h(
                  "span",
                  { id: "sync-oldest", class: s.deadline_at_risk ? "outcome-warning" : null, "data-at-risk": String(s.deadline_at_risk) },
                  `${s.oldest_unsent_on}，已 ${s.oldest_unsent_working_days} 个工作日（须在 ${s.deadline_working_days} 个工作日内报送省级平台）`,
                  s.deadline_at_risk ? "　⚠ 即将或已经超期，请尽快同步" : "",
                ),
          ],
          ["注销名单", s.revocation_list_number == null ? "尚未收到省级注销名单" : `第 ${s.revocation_list_number} 号，${s.revocation_list_date || "—"}`],
          ["注销名单时效", s.revocation_list_age_days == null ? "—" : `已 ${s.revocation_list_age_days} 天未更新`],
        ]),
      );
    })
    .catch((e) => {
      clear(box);
      add(box, h("p", null, e.status === 404 ? "本版本尚未提供与省级平台的同步（同步状态接口未启用）。" : `无法加载同步状态：${e.message}`));
    });
  return h("section", { class: "panel", "aria-labelledby": "sync-h" }, h("h2", { id: "sync-h" }, "同步与注销名单"), box);
}

function operatorsSection() {
  const list = h("div", { id: "operators" });
  async function load() {
    const ops = await get("operators");
    clear(list);
    add(list, 
      table(
        null,
        ["用户名", "姓名", "角色", "状态", "操作"],
        ops.map((o) => {
          const toggle = h(
            "button",
            { type: "button", class: "btn btn-small btn-secondary", "aria-label": `${o.disabled ? "启用" : "停用"} ${o.username}` },
            o.disabled ? "启用" : "停用",
          );
          toggle.addEventListener("click", () =>
            busy(toggle, "正在保存…", async () => {
              await patch(`operators/${o.id}`, { disabled: !o.disabled });
              showNotice(`${o.username} 已${o.disabled ? "启用" : "停用"}`);
              await load();
            }),
          );
          const pw = h("input", { type: "password", id: `op-pw-${o.id}`, autocomplete: "new-password" });
          const setPw = h("button", { type: "button", class: "btn btn-small btn-secondary" }, "重设密码");
          setPw.addEventListener("click", () =>
            busy(setPw, "正在保存…", async () => {
              if (!pw.value) throw new Error("请先填写新密码");
              await patch(`operators/${o.id}`, { password: pw.value });
              pw.value = "";
              showNotice(`${o.username} 的密码已重设`);
            }),
          );
          return h(
            "tr",
            null,
            h("td", null, o.username),
            h("td", null, o.display_name),
            h("td", null, o.role_label),
            h("td", null, o.disabled ? "✖ 已停用" : "✔ 在用"),
            h(
              "td",
              null,
              h("div", { class: "actions" }, toggle, h("label", { for: pw.id, class: "hint" }, `${o.username} 的新密码`), pw, setPw),
            ),
          );
        }),
      ),
    );
  }
  const username = h("input", { type: "text", id: "new-op-username", autocomplete: "off", required: true });
  const display = h("input", { type: "text", id: "new-op-display", required: true });
  const role = select(labelEntries("role"), { id: "new-op-role" });
  const password = h("input", { type: "password", id: "new-op-password", autocomplete: "new-password", required: true });
  const addButton = h("button", { type: "submit", class: "btn" }, "添加操作员");
  const form = h(
    "form",
    { "aria-labelledby": "newop-h" },
    h("h3", { id: "newop-h" }, "添加操作员"),
    h("div", { class: "cols" }, field("用户名", username), field("姓名", display), field("角色", role), field("初始密码", password)),
    h("div", { class: "actions" }, addButton),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(addButton, "正在添加…", async () => {
      const o = await post("operators", {
        username: username.value.trim(),
        display_name: display.value.trim(),
        role: role.value,
        password: password.value,
      });
      showNotice(`已添加操作员 ${o.username}（${o.role_label}）`);
      form.reset();
      await load();
    });
  });
  load().catch((e) => {
    add(list, h("p", null, `无法加载操作员：${e.message}`));
    showError(e);
  });
  return h("section", { class: "panel", "aria-labelledby": "ops-h" }, h("h2", { id: "ops-h" }, "操作员"), list, form);
}

// 本站自检: the same report as `ecardd doctor` (GET /api/v1/doctor), one row per
// finding with what to do; run again on demand (it asks the registry over the network).
function doctorSection() {
  const box = h("div", { id: "doctor-box", "aria-live": "polite" }, h("p", { class: "muted" }, "正在检查…"));
  const again = h("button", { type: "button", class: "btn" }, "重新检查");
  const word = { ok: "✔ 正常", warning: "⚠ 注意", fault: "✖ 故障" };
  function show(r) {
    clear(box);
    add(box,
      h("p", { id: "doctor-worst" }, r.worst === "ok" ? "✔ 各项正常" : r.worst === "warning" ? "⚠ 有需要注意的项" : "✖ 有故障，请按提示处理"),
      table(null, ["结果", "项目", "情况", "处理"], r.findings.map((f) =>
        h("tr", { "data-code": f.code, "data-level": f.level },
          h("td", null, word[f.level] || f.level),
          h("td", null, f.check),
          h("td", null, f.zh, h("br"), h("span", { class: "muted", lang: "en" }, f.en)),
          h("td", null, f.fix_zh || "—")))),
    );
  }
  function load() {
    return get("doctor").then(show).catch((e) => {
      clear(box);
      add(box, h("p", null, `无法自检：${e.message}`));
    });
  }
  again.addEventListener("click", () => busy(again, "正在检查…", load));
  load();
  return h("section", { class: "panel", "aria-labelledby": "doctor-h" }, h("h2", { id: "doctor-h" }, "本站自检"), box, h("div", { class: "actions" }, again));
}

// 制证打印机: the CUPS queue single faces go to, and which reader is which card
// printer's built-in encoder, in which order that printer works (print-and-encode
// batches). GET/PUT /settings/printing; the queues are the ones CUPS offers now.
function printingSection() {
  const box = h("div", { id: "printing-box" }, h("p", { class: "muted" }, "正在加载…"));
  const queue = h("select", { id: "printing-queue" });
  const pairs = h("div", { id: "printing-pairs" });
  const save = h("button", { type: "submit", class: "btn", id: "printing-save" }, "保存打印设置");
  const form = h(
    "form",
    { "aria-labelledby": "printing-form-h", id: "printing-form" },
    h("h3", { id: "printing-form-h" }, "打印卡面"),
    field("制证打印机（CUPS 打印队列）", queue, "「打印卡面」按钮把卡面送到这台打印机"),
    h("h3", null, "读卡器与打印机配对"),
    h("p", null, "制证打印机内置的写卡器在本站显示为一台读卡器。为它选择所属的打印机和打印机的工作顺序；边写卡边打印的批次只能使用已配对的读卡器。"),
    pairs,
    h("div", { class: "actions" }, save),
  );
  let orders = [];
  let queues = [];
  let rows = [];
  const options = (list, current, none) => {
    const all = [...list];
    if (current && !all.includes(current)) all.push(current);
    return [["", none], ...all.map((q) => [q, q === current && !list.includes(q) ? `${q}（CUPS 中未找到）` : q])];
  };
  function fill(sel, opts, value) {
    clear(sel);
    for (const [v, t] of opts) add(sel, h("option", { value: v }, t));
    sel.value = value || "";
  }
  function show(v, readers) {
    orders = v.orders || [];
    queues = v.queues || [];
    clear(box);
    add(box,
      v.queues_error
        ? h("p", { class: "error", id: "printing-queues-error", role: "alert" }, `无法列出打印队列：${v.queues_error.message}`)
        : h("p", { class: "muted" }, queues.length ? `CUPS 中有 ${queues.length} 个打印队列。` : "CUPS 中还没有打印队列（见 docs/OPERATIONS.md「制证打印机」）。"),
    );
    fill(queue, options(queues, v.queue, "（未选择）"), v.queue);
    const byReader = new Map((v.pairings || []).map((p) => [p.reader, p]));
    const names = [...new Set([...readers, ...byReader.keys()])];
    rows = names.map((name, i) => {
      const p = byReader.get(name);
      const q = h("select", { id: `pair-queue-${i}`, "data-reader": name, "aria-label": `${name} 所属的打印机` });
      fill(q, options(queues, p && p.queue, "不配对"), p && p.queue);
      const o = h("select", { id: `pair-order-${i}`, "aria-label": `${name} 的打印机工作顺序` });
      fill(o, orders.map((x) => [x.order, x.label]), p ? p.order : "encode_first");
      return { name, q, o };
    });
    clear(pairs);
    add(pairs, rows.length
      ? table(null, ["读卡器", "所属打印机", "工作顺序"], rows.map((r) => h("tr", { "data-reader": r.name }, h("td", null, r.name), h("td", null, r.q), h("td", null, r.o))))
      : h("p", null, "本站没有读卡器。"));
  }
  async function load() {
    const [v, r] = await Promise.all([get("settings/printing"), get("readers").catch(() => ({ readers: [] }))]);
    show(v, (r.readers || []).map((x) => x.name));
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(save, "正在保存…", async () => {
      const pairings = rows
        .filter((r) => r.q.value)
        .map((r) => ({ reader: r.name, queue: r.q.value, order: r.o.value }));
      await put("settings/printing", { queue: queue.value || null, pairings });
      await load();
      showNotice("打印设置已保存");
    });
  });
  load().catch((e) => {
    clear(box);
    add(box, h("p", null, `无法加载打印设置：${e.message}`));
  });
  return h("section", { class: "panel", "aria-labelledby": "printing-h", id: "printing" }, h("h2", { id: "printing-h" }, "制证打印机"), box, form);
}

export function renderSettings(page) {
  add(page, h("h1", { tabindex: "-1" }, "设置"));
  if (can("manage_keys") || can("manage_trust")) add(page, settingsSection());
  if (can("manage_keys")) add(page, printingSection());
  if (can("manage_keys")) add(page, doctorSection());
  if (can("manage_trust")) add(page, trustSection());
  if (can("view_records") || can("sync")) add(page, syncSection());
  if (can("manage_operators")) add(page, operatorsSection());
}
