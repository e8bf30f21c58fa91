// 扫码核验: the text a USB 2D scanner types (it acts as a keyboard, ending with
// Enter) is checked against this station's trust list: 真实 / 伪造 / 无法确认.
import { post } from "./api.js";
import { busy, showError } from "./core.js";
import { add, h, clear, facts } from "./dom.js";

const ICON = { genuine: "✔", forged: "✘", unconfirmed: "?", not_a_seal: "?" };

function sealResult(v) {
  const p = v.printed;
  return h(
    "div",
    { class: `verdict seal-${v.verdict}`, id: "seal-verdict", "data-verdict": v.verdict, tabindex: "-1" },
    h("span", { class: "icon", "aria-hidden": "true" }, ICON[v.verdict] || "?"),
    h(
      "div",
      null,
      h("div", { class: "label", id: "seal-verdict-label" }, v.verdict_label),
      v.validity_label ? h("div", { class: "sub" }, `印制的有效期：${v.validity_label}`) : null,
      v.card_voided_label
        ? h("div", { class: "sub error", id: "seal-card-voided", role: "alert" }, v.card_voided_label)
        : null,
      p
        ? facts([
            ["姓名", p.name],
            ["证号", p.number],
            ["证件类型", p.kind_label],
            ["执法单位", p.unit],
            ["有效期", `${p.valid_from} 至 ${p.valid_until}`],
            ["卡号", p.card_serial],
            ["签发", `${p.signer}，${p.issued_on}`],
          ])
        : null,
      v.note ? h("p", { class: "muted", id: "seal-note" }, v.note) : null,
    ),
  );
}

export function sealPanel() {
  const input = h("input", {
    id: "seal-text",
    name: "seal-text",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: "2048",
  });
  const go = h("button", { type: "submit", class: "btn", id: "seal-go" }, "核验二维码");
  const result = h("div", { id: "seal-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "seal-h" },
    h("h2", { id: "seal-h" }, "扫码核验（无读卡器时）"),
    h("p", { class: "muted" }, "用扫码枪扫描卡背面的二维码，或粘贴二维码内容后按回车。"),
    h("label", { for: "seal-text" }, "二维码内容"),
    input,
    h("div", { class: "actions" }, go),
    result,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(go, "正在核验…", async () => {
      clear(result);
      const v = await post("seal/check", { text: input.value });
      add(result, sealResult(v));
      document.getElementById("seal-verdict").focus({ preventScroll: true });
      input.value = "";
    }).catch(showError);
  });
  return form;
}
