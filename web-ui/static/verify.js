// 验证: read the card at a reader and show the verdict with everything it found.
import { get, post } from "./api.js";
import { busy, showError } from "./core.js";
import { readerPanel } from "./readers.js";
import { sealPanel } from "./seal.js";
import { add, h, clear, facts, table, label, postsLabel, STANDING_ICON, OUTCOME_ICON } from "./dom.js";

export function holderFacts(holder) {
  if (!holder) return h("p", { class: "muted" }, "未读到持证人信息");
  return facts([
    ["姓名", holder.name],
    ["性别", label("gender", holder.gender)],
    ["民族", holder.ethnicity],
    ["出生日期", holder.birth_date],
    ["公民身份号码", holder.id_number],
  ]);
}

export function certificateFacts(c) {
  if (!c) return h("p", { class: "muted" }, "未读到证件信息");
  return facts([
    ["证号", c.number],
    ["证件类型", label("certificate_kind", c.kind)],
    ["执法单位", c.unit],
    ...(c.entrusting_authority ? [["委托机关", c.entrusting_authority], ["委托机关性质", c.entrusting_nature]] : []),
    ["执法岗位", postsLabel(c.posts)],
    ["执法类别", c.category],
    ["执法区域", c.area],
    ["发证机关", c.issuer],
    ["发证日期", c.issue_date],
    ["有效期", `${c.valid_from || "—"} 至 ${c.valid_until || "—"}`],
  ]);
}

/** The large verdict: icon + text + border style, never colour alone. */
export function verdictBanner(standing, standingLabel, sub) {
  const icon = STANDING_ICON[standing] || "?";
  const text = standingLabel || label("standing", standing);
  const explain = label("standing_note", standing);
  return h(
    "div",
    { class: `verdict verdict-${standing}`, id: "verdict", "data-standing": standing },
    h("span", { class: "icon", "aria-hidden": "true" }, icon),
    h(
      "div",
      null,
      h("div", { class: "label", id: "verdict-label" }, text),
      h("div", { class: "sub" }, explain, sub ? ` · ${sub}` : ""),
    ),
  );
}

function outcomeCell(outcome) {
  const icon = OUTCOME_ICON[outcome] || "?";
  const text = label("outcome", outcome);
  return h("span", { class: `outcome outcome-${outcome}` }, h("span", { "aria-hidden": "true" }, `${icon} `), text);
}

function checkRow(c) {
  const key = typeof c.check === "string" ? c.check : JSON.stringify(c.check);
  return h(
    "tr",
    { "data-check": key, "data-file": c.file || "", "data-outcome": c.outcome },
    h("td", null, c.label || key),
    h("td", null, outcomeCell(c.outcome)),
    h(
      "td",
      null,
      c.findings && c.findings.length
        ? h("ul", { class: "findings" }, c.findings.map((f) => h("li", null, f.message || f.kind)))
        : "—",
    ),
  );
}

function verdictSub(v) {
  return `${v.family_label || label("family", v.family) || ""}${v.family_label || v.family ? " · " : ""}卡号 ${v.serial || "—"} · 核验日期 ${v.verified_on || "—"}`;
}

function photoImg(src, holder) {
  return h("img", { class: "photo", src, alt: `持证人照片（卡内）：${holder ? holder.name : ""}` });
}

/**
 * A photo the check did not read, which is no sign of a fake: a PIV card keeps the
 * holder's photo behind the holder's PIN (docs/PROFILE-PIV.md), and a field check
 * asks for no PIN. Said plainly, not as an error, so the inspector compares the
 * printed face and the person instead.
 */
function photoUnread(findings, why) {
  const needsPin = findings.some((f) => f.kind === "photo_needs_pin");
  return h(
    "div",
    { class: "photo-unread", id: "photo-unread", "data-finding": needsPin ? "photo_needs_pin" : "" },
    h("p", { class: "photo-unread-head" }, needsPin ? "照片：需持证人输入 PIN，未读取" : "照片：未读取"),
    why ? h("p", { class: "photo-unread-why" }, why) : null,
  );
}

export function renderVerdict(v) {
  const checks = (v.checks || []).map(checkRow);
  const status = v.status
    ? `${label("card_status", v.status.state)}${v.status.reason ? `（${v.status.reason}）` : ""}${v.status.since || v.status.date ? `，自 ${v.status.since || v.status.date}` : ""}`
    : "—";
  // Which reviews the annual-review check counted, and whether from the card or
  // from this station's records (recorded here, not yet written to the card).
  const counted = v.counted_reviews || [];
  const reviews = (v.reviews || []).map((r) =>
    h("tr", null, h("td", null, r.year), h("td", null, r.date), h("td", null, label("review_result", r.result)), h("td", null, r.reviewer || "—")),
  );
  return h(
    "div",
    { class: "verdict-result", "data-family": v.family || "" },
    verdictBanner(v.standing, v.standing_label, verdictSub(v)),
    v.warnings && v.warnings.length
      ? h(
          "section",
          { class: "panel", "aria-labelledby": "warn-h" },
          h("h2", { id: "warn-h" }, `⚠ ${label("outcome", "warning")}`),
          h("ul", { class: "warnings" }, v.warnings.map((w) => h("li", null, w))),
        )
      : null,
    h(
      "div",
      { class: "cols" },
      h(
        "section",
        { class: "panel photo-box", "aria-labelledby": "photo-h" },
        h("h2", { id: "photo-h" }, "照片"),
        h(
          "div",
          { id: "photo-slot" },
          v.photo
            ? photoImg(v.photo, v.holder)
            : v.photo_id
              ? h("p", { class: "muted", id: "photo-wait" }, "正在读取卡内照片…")
              : h("p", { class: "muted" }, "卡内照片不可用"),
        ),
      ),
      h("section", { class: "panel", "aria-labelledby": "holder-h" }, h("h2", { id: "holder-h" }, "持证人"), holderFacts(v.holder)),
      h(
        "section",
        { class: "panel", "aria-labelledby": "cert-h" },
        h("h2", { id: "cert-h" }, "证件"),
        certificateFacts(v.certificate),
        h("h3", null, "卡内状态"),
        h("p", { id: "card-status" }, status),
        v.record
          ? h("p", null, "本站记录：", h("a", { href: `#/records?id=${v.record.certificate_id}` }, `证件记录 #${v.record.certificate_id}`))
          : h("p", { class: "muted" }, "本站没有这张卡的记录"),
      ),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "checks-h" },
      h("h2", { id: "checks-h" }, "逐项核验"),
      table(null, ["核验项目", "结果", "发现"], checks, { id: "checks" }),
      h("p", { class: "muted" }, `读卡指令 ${v.apdus ?? "—"} 条`),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "reviews-h" },
      h("h2", { id: "reviews-h" }, "年审记录（卡内）"),
      reviews.length ? table(null, ["年度", "日期", "结论", "年审人"], reviews) : h("p", { class: "muted" }, "卡内没有年审记录"),
      counted.length
        ? h(
            "p",
            { id: "counted-reviews" },
            "核验计入的年审：",
            counted.map((r) => `${r.year} 年度${label("review_result", r.result)}（${r.source_label || label("review_source", r.source)}）`).join("；"),
          )
        : null,
    ),
  );
}

/**
 * The photo follows the verdict: it is read while the verdict is already shown, and
 * shown only when its hash matched the card's security object. A photo that fails
 * is reported in its place, its check row updated, and the banner corrected.
 */
async function followPhoto(v, signal) {
  let p;
  try {
    p = await get(`verify/${encodeURIComponent(v.photo_id)}/photo`);
  } catch (e) {
    if (signal.aborted) return;
    const slot = document.getElementById("photo-slot");
    if (slot) {
      clear(slot);
      add(slot, h("p", { class: "muted", id: "photo-failed" }, `照片读取失败：${e.message}`));
    }
    return;
  }
  if (signal.aborted) return;
  const slot = document.getElementById("photo-slot");
  if (!slot) return;
  clear(slot);
  const findings = (p.check && p.check.findings) || [];
  const why = findings.map((f) => f.message || f.kind).join("；");
  if (p.photo) {
    add(slot, photoImg(p.photo, v.holder));
  } else if (p.check && p.check.outcome === "warning") {
    add(slot, photoUnread(findings, why));
  } else {
    add(
      slot,
      h("p", { class: "photo-refused", id: "photo-refused", role: "alert" }, `⚠ 卡内照片未通过完整性校验，不予显示${why ? `：${why}` : ""}`),
    );
  }
  if (p.check) {
    const row = document.querySelector(`#checks tr[data-check="${p.check.check}"][data-file="${p.check.file || ""}"]`);
    if (row) row.replaceWith(checkRow(p.check));
  }
  if (p.standing !== v.standing) {
    const banner = document.getElementById("verdict");
    if (banner) {
      const fresh = verdictBanner(p.standing, p.standing_label, verdictSub(v));
      fresh.setAttribute("tabindex", "-1");
      banner.replaceWith(fresh);
    }
  }
}

export function renderVerify(page, { signal }) {
  const panel = readerPanel({ signal });
  const result = h("div", { id: "verify-result", "aria-live": "polite" });
  const go = h("button", { type: "submit", class: "btn", id: "verify-go" }, "验证卡片");
  const form = h("form", { class: "panel" }, panel.el, h("div", { class: "actions" }, go));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(go, "正在读卡核验…", async () => {
      const reader = panel.selected();
      if (!reader) throw new Error("请先选择读卡器");
      clear(result);
      const v = await post("verify", { reader });
      add(result, renderVerdict(v));
      const verdict = document.getElementById("verdict");
      verdict.setAttribute("tabindex", "-1");
      verdict.focus({ preventScroll: true });
      // The verdict, photo and data fill the screen; the reader panel scrolls away.
      verdict.scrollIntoView({ block: "start" });
      // The photo follows; the verdict is already on screen.
      if (v.photo_id) followPhoto(v, signal);
    }).catch(showError);
  });
  add(page, 
    h("h1", { tabindex: "-1" }, "验证"),
    h("p", null, "把执法证放入读卡器，选择读卡器后点击「验证卡片」。结论先于照片给出；每一项核验都列在下方。"),
    form,
    result,
    sealPanel(),
  );
}
