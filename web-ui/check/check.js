// 执法证二维码核验: checks a card face's signed QR (docs/SEAL.md) offline, in the
// browser, against the trust list this page carries. Reads the code through the
// camera (BarcodeDetector where the browser has it) or from a photo of the card
// (the bundled jsQR decoder). The check itself uses no network; after a genuine
// verdict, when the station that made this page is enrolled with a registry, the
// page asks the registry's public check (GET /public/v1/check, the seal as the
// question) for the certificate's state now, which no printed code can show.
"use strict";
(function () {
  const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  const AAD = new TextEncoder().encode("ecard-seal/1");
  const trust = JSON.parse(document.getElementById("trust").textContent);

  class Forged extends Error {}

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function unhex(s) {
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
    return out;
  }
  function equal(a, b) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }

  function base45(text) {
    const out = [];
    for (let i = 0; i < text.length; i += 3) {
      const group = text.slice(i, i + 3);
      if (group.length === 1) throw new Forged("base45 length");
      const v = Array.from(group, (c) => {
        const n = ALPHABET.indexOf(c);
        if (n < 0) throw new Forged("base45 alphabet");
        return n;
      });
      const n = v.reduce((acc, x, k) => acc + x * 45 ** k, 0);
      if (group.length === 3) {
        if (n > 0xffff) throw new Forged("base45 overflow");
        out.push(n >> 8, n & 0xff);
      } else {
        if (n > 0xff) throw new Forged("base45 overflow");
        out.push(n);
      }
    }
    return new Uint8Array(out);
  }

  // A small strict CBOR reader: definite lengths only, which is all a seal uses.
  function cbor(bytes) {
    let at = 0;
    function need(n) {
      if (at + n > bytes.length) throw new Forged("CBOR truncated");
    }
    function arg(info) {
      if (info < 24) return info;
      const len = { 24: 1, 25: 2, 26: 4 }[info];
      if (!len) throw new Forged("CBOR length");
      need(len);
      let n = 0;
      for (let i = 0; i < len; i++) n = n * 256 + bytes[at++];
      return n;
    }
    function item(depth) {
      if (depth > 8) throw new Forged("CBOR depth");
      need(1);
      const head = bytes[at++];
      const major = head >> 5;
      const n = arg(head & 31);
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: need(n); at += n; return bytes.slice(at - n, at);
        case 3: need(n); at += n; return new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(at - n, at));
        case 4: { const a = []; for (let i = 0; i < n; i++) a.push(item(depth + 1)); return a; }
        case 5: { const m = new Map(); for (let i = 0; i < n; i++) { const k = item(depth + 1); m.set(k, item(depth + 1)); } return m; }
        case 6: return { tag: n, value: item(depth + 1) };
        default: throw new Forged("CBOR type");
      }
    }
    const value = item(0);
    if (at !== bytes.length) throw new Forged("CBOR trailing bytes");
    return value;
  }

  function cborHead(major, n) {
    if (n < 24) return [(major << 5) | n];
    if (n < 256) return [(major << 5) | 24, n];
    return [(major << 5) | 25, n >> 8, n & 0xff];
  }
  // Sig_structure = ["Signature1", protected, external_aad, payload] (RFC 9052 §4.4).
  function sigStructure(protectedBytes, payload) {
    const label = new TextEncoder().encode("Signature1");
    const parts = [[0x84], cborHead(3, label.length), label];
    for (const b of [protectedBytes, AAD, payload]) parts.push(cborHead(2, b.length), b);
    return new Uint8Array(parts.flatMap((p) => Array.from(p)));
  }

  // BER-TLV with one- or two-byte tags (docs/PROFILE.md §4's signer certificate).
  function tlv(bytes) {
    const out = [];
    let at = 0;
    while (at < bytes.length) {
      const start = at;
      let tag = bytes[at++];
      if ((tag & 0x1f) === 0x1f) tag = (tag << 8) | bytes[at++];
      let len = bytes[at++];
      if (len & 0x80) {
        const k = len & 0x7f;
        len = 0;
        for (let i = 0; i < k; i++) len = len * 256 + bytes[at++];
      }
      if (at + len > bytes.length) throw new Error("TLV truncated");
      out.push({ tag, value: bytes.slice(at, at + len), whole: bytes.slice(start, at + len) });
      at += len;
    }
    return out;
  }

  const ymd = (b) => new TextDecoder().decode(b).replace(/^(\d{4})(\d{2})(\d{2})$/, "$1-$2-$3");

  async function key(raw) {
    return crypto.subtle.importKey("raw", raw, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  }
  async function verify(pub, sig, data) {
    return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await key(pub), sig, data);
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // The signer certificates this page carries that chain to one of its roots.
  async function signers() {
    const out = [];
    for (const s of trust.signers) {
      try {
        const [cert] = tlv(unhex(s));
        const [body, sig] = tlv(cert.value);
        const f = new Map(tlv(body.value).map((t) => [t.tag, t.value]));
        const issuer = hex(f.get(0x42));
        for (const root of trust.roots) {
          const rootPub = unhex(root.public_key);
          if (hex((await sha256(rootPub)).slice(0, 8)) !== issuer) continue;
          if (!(await verify(rootPub, sig.value, body.whole))) continue;
          const pub = f.get(0x86);
          out.push({
            pub,
            kid: hex((await sha256(pub)).slice(0, 4)),
            keyId: hex((await sha256(pub)).slice(0, 8)),
            subject: new TextDecoder().decode(f.get(0x5f20)),
            from: ymd(f.get(0x5f25)),
            until: ymd(f.get(0x5f24)),
            root,
          });
        }
      } catch (e) {
        // A certificate this page cannot read checks nothing.
      }
    }
    return out;
  }

  function day(n) {
    return new Date(Date.UTC(1970, 0, 1) + n * 86400000).toISOString().slice(0, 10);
  }

  async function check(text) {
    text = text.trim();
    if (!text.startsWith("EC1:")) return { verdict: "not_a_seal" };
    if (text.length > 400) return { verdict: "forged", why: "too long" };
    try {
      const item = cbor(base45(text.slice(4)));
      if (!item || item.tag !== 18 || !Array.isArray(item.value) || item.value.length !== 4) throw new Forged("not COSE_Sign1");
      const [prot, unprot, payload, sig] = item.value;
      if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || unprot.size !== 0) throw new Forged("headers");
      if (!(payload instanceof Uint8Array) || !(sig instanceof Uint8Array) || sig.length !== 64) throw new Forged("parts");
      const header = cbor(prot);
      if (!(header instanceof Map) || header.size !== 2 || header.get(1) !== -7 || !(header.get(4) instanceof Uint8Array) || header.get(4).length !== 4) throw new Forged("protected header");
      const kid = hex(header.get(4));
      const named = (await signers()).filter((s) => s.kid === kid);
      if (!named.length) return { verdict: "unconfirmed" };
      const tbs = sigStructure(prot, payload);
      let signer = null;
      for (const s of named) if (await verify(s.pub, sig, tbs)) { signer = s; break; }
      if (!signer) throw new Forged("signature");
      const f = cbor(payload);
      if (!(f instanceof Map) || f.size !== 9 || Array.from(f.keys()).some((k, i) => k !== i + 1)) throw new Forged("payload keys");
      const gb = new TextDecoder("gb18030", { fatal: true });
      const issued = day(f.get(7));
      if (issued < signer.from || issued > signer.until) throw new Forged("signer out of validity");
      if (issued < signer.root.valid_from || issued > signer.root.valid_until) throw new Forged("root out of validity");
      const revoked = (trust.revoked_signers || []).find((r) => r.key_id === signer.keyId);
      if (revoked && issued >= revoked.revoked_on) throw new Forged("signer revoked");
      const today = new Date().toISOString().slice(0, 10);
      const from = day(f.get(5));
      const until = day(f.get(6));
      return {
        verdict: "genuine",
        text,
        validity: today < from ? "尚未生效" : today > until ? "已过有效期" : "在有效期内",
        facts: [
          ["姓名", gb.decode(f.get(2))],
          ["证号", gb.decode(f.get(1))],
          ["证件类型", { 1: "行政执法证", 2: "委托行政执法证", 3: "行政执法监督证" }[f.get(4)] || "?"],
          ["执法单位", gb.decode(f.get(3))],
          ["有效期", `${from} 至 ${until}`],
          ["卡号", hex(f.get(8)).toUpperCase()],
          ["签发", `${signer.subject}，${issued}`],
        ],
      };
    } catch (e) {
      return { verdict: "forged", why: String(e.message || e) };
    }
  }

  const LABEL = { genuine: "真实", forged: "伪造", unconfirmed: "无法确认", not_a_seal: "不是执法证二维码" };
  const NOTE = "二维码只能证明制证时的信息；证件此后是否被暂停、注销或未通过年审，须联网向登记中心查询或用读卡器验证芯片。";
  const UNCONFIRMED = "本页不认识签发该二维码的机关（本页的信任列表可能已过时），请联网查询或用读卡器验证芯片。";
  const OFFLINE = "卡面二维码不能显示年审和注销情况，联网后可向登记中心查询，或用读卡器验证芯片。";

  // The registry's answer for a genuine seal: its state now, in words it gives.
  async function askRegistry(text, into) {
    if (!trust.registry) {
      into.textContent = OFFLINE;
      return;
    }
    into.textContent = "正在向登记中心查询证件当前状态……";
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10000);
    try {
      const url = `${trust.registry}/public/v1/check?seal=${encodeURIComponent(text)}`;
      const resp = await fetch(url, { credentials: "omit", cache: "no-store", signal: stop.signal });
      const body = await resp.json();
      into.textContent = "";
      if (resp.ok && body.code === "ok") {
        into.dataset.status = body.status;
        // Anything but 有效 is what the holder's printed card does not show: say it loudly.
        if (body.status !== "valid") into.classList.add("reg-bad");
        into.append(el("span", { class: "reg-word" }, `登记中心：${body.word}`));
        if (body.review && body.review.word) into.append(el("span", null, `（${body.review.word}）`));
        into.append(el("span", { class: "note" }, ` 查询日期 ${body.checked_on}`));
      } else {
        into.dataset.status = body.code || "error";
        into.textContent = `登记中心未给出状态：${body.message || resp.status}`;
      }
    } catch (e) {
      into.dataset.status = "offline";
      into.textContent = `无法连接登记中心。${OFFLINE}`;
    } finally {
      clearTimeout(timer);
    }
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }

  function show(r) {
    const out = document.getElementById("result");
    out.textContent = "";
    const box = el("div", { id: "verdict", class: `verdict v-${r.verdict}`, "data-verdict": r.verdict, tabindex: "-1" },
      el("div", { id: "verdict-label", class: "label" }, LABEL[r.verdict]));
    if (r.validity) box.append(el("p", { id: "validity" }, `印制的有效期：${r.validity}`));
    if (r.facts) {
      const dl = el("dl");
      for (const [k, v] of r.facts) dl.append(el("dt", null, k), el("dd", null, v));
      const now = el("p", { id: "registry-status", class: "registry", "aria-live": "polite" });
      box.append(dl, now, el("p", { class: "note" }, NOTE));
      askRegistry(r.text, now);
    }
    if (r.verdict === "unconfirmed") box.append(el("p", { class: "note" }, UNCONFIRMED));
    if (r.verdict === "forged") box.append(el("p", { class: "note" }, "该二维码不是本局签发的原样二维码，证件可能被伪造或涂改。"));
    out.append(box);
    box.focus();
  }

  async function fromImage(source) {
    if ("BarcodeDetector" in window) {
      try {
        const found = await new window.BarcodeDetector({ formats: ["qr_code"] }).detect(source);
        if (found.length) return found[0].rawValue;
      } catch (e) {
        // Fall back to the bundled decoder.
      }
    }
    const canvas = document.createElement("canvas");
    const w = source.videoWidth || source.naturalWidth || source.width;
    const h = source.videoHeight || source.naturalHeight || source.height;
    const scale = Math.min(1, 1600 / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const code = window.jsQR(data.data, data.width, data.height);
    return code ? code.data : null;
  }

  document.getElementById("file").addEventListener("change", (e) => {
    const file = e.target.files && e.target.files[0];
    if (!file) return;
    const img = new Image();
    const url = URL.createObjectURL(file);
    img.onload = async () => {
      const text = await fromImage(img);
      URL.revokeObjectURL(url);
      if (text === null) {
        document.getElementById("result").textContent = "图片中没有找到二维码，请对准卡背面的二维码重新拍摄。";
        return;
      }
      show(await check(text));
    };
    img.src = url;
  });

  document.getElementById("camera").addEventListener("click", async () => {
    const video = document.getElementById("video");
    try {
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.hidden = false;
      await video.play();
      const tick = async () => {
        const text = video.videoWidth ? await fromImage(video) : null;
        if (text) {
          video.srcObject.getTracks().forEach((t) => t.stop());
          video.hidden = true;
          show(await check(text));
        } else if (!video.hidden) {
          requestAnimationFrame(tick);
        }
      };
      tick();
    } catch (e) {
      document.getElementById("result").textContent = "无法打开摄像头，请改用「选择照片」。";
    }
  });

  document.getElementById("text-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    show(await check(document.getElementById("text").value));
  });

  document.getElementById("trust-info").textContent =
    `本页信任列表：${trust.roots.map((r) => r.name).join("、") || "（空）"}；签发机关 ${trust.signers.length} 个；生成于 ${trust.generated_on}。` +
    (trust.registry ? `联网时向登记中心 ${trust.registry} 查询当前状态。` : "本页未配置登记中心，只能离线核验。");
})();
