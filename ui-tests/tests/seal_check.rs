#![allow(clippy::unwrap_used)]
//! The card face and 扫码核验 in headless chromium against the real `ecardd demo`
//! (issue #16): an issuer writes a card, the record page offers 打印卡面, the PDF it
//! links is rendered by poppler and its QR read by zbarimg; the text is typed into
//! the 验证 page's scanner field as a USB 2D scanner types it (then Enter) and the
//! page says 真实 with the printed facts and what a printed QR cannot say; one
//! changed character says 伪造. axe-core checks the page with each verdict.

use std::time::Duration;
use ui_tests::{Result, Ui};

const READER: &str = "演示读卡器 1";

/// `fetch` from inside the logged-in page, answering the body as text (or base64
/// for binary), so that the session cookie is the browser's own.
async fn fetch(
    ui: &Ui,
    method: &str,
    path: &str,
    body: Option<&str>,
    binary: bool,
) -> Result<String> {
    let script = r#"
        const [method, path, body, binary, done] = arguments;
        const init = { method, headers: { "x-requested-with": "ecard" } };
        if (body !== null) { init.body = body; init.headers["content-type"] = "application/json"; }
        fetch("/api/v1/" + path, init).then(async (r) => {
            if (!binary) return done(r.status + " " + await r.text());
            const bytes = new Uint8Array(await r.arrayBuffer());
            let s = ""; for (const b of bytes) s += String.fromCharCode(b);
            done(r.status + " " + btoa(s));
        }).catch((e) => done("0 " + e));
    "#;
    let v = ui
        .client
        .execute_async(
            script,
            vec![
                method.into(),
                path.into(),
                body.map(Into::into).unwrap_or(serde_json::Value::Null),
                binary.into(),
            ],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

fn ok_body(answer: &str) -> &str {
    let (status, body) = answer.split_once(' ').unwrap_or((answer, ""));
    assert_eq!(status, "200", "{answer}");
    body
}

/// Renders the back page to `<dir>/back.png` (what a phone's photo of the card
/// would show) and reads its QR with zbarimg.
fn scan_back(pdf: &[u8], dir: &std::path::Path) -> String {
    use ecard_test_support::cups::read_back;
    let path = dir.join("face.pdf");
    std::fs::write(&path, pdf).unwrap();
    let png = read_back::render_page(&path, 2, &dir.join("back"));
    read_back::qr_in_png(&png).expect("zbarimg reads the back's QR")
}

async fn scan_into_verify_page(ui: &Ui, text: &str) -> Result<(String, String)> {
    ui.goto("verify").await?;
    ui.find("#seal-text")
        .await?
        .send_keys(&format!("{text}\n"))
        .await?;
    let verdict = ui
        .wait_attr("#seal-verdict", "data-verdict", Duration::from_secs(20))
        .await?;
    let label = ui.find("#seal-verdict-label").await?.text().await?;
    Ok((verdict, label))
}

async fn walk(ui: &Ui) -> Result<()> {
    ui.login("zhizheng").await?;
    let list = fetch(ui, "GET", "certificates?state=approved", None, false).await?;
    let rows: serde_json::Value = serde_json::from_str(ok_body(&list)).unwrap();
    let cert = rows[0]["id"]
        .as_i64()
        .expect("an approved certificate in the demo");
    ok_body(
        &fetch(
            ui,
            "POST",
            &format!("demo/readers/{}/insert-blank", urlencode(READER)),
            None,
            false,
        )
        .await?,
    );
    let issued = fetch(
        ui,
        "POST",
        "issue",
        Some(&format!(
            r#"{{"certificate_id":{cert},"reader":"{READER}"}}"#
        )),
        false,
    )
    .await?;
    ok_body(&issued);

    // The record page offers the face; the link is the PDF.
    ui.goto(&format!("records?id={cert}")).await?;
    let href = ui
        .wait_attr("#face-pdf", "href", Duration::from_secs(20))
        .await?;
    assert!(
        href.ends_with(&format!("api/v1/certificates/{cert}/face.pdf")),
        "{href}"
    );
    let pdf_b64 = fetch(
        ui,
        "GET",
        &format!("certificates/{cert}/face.pdf"),
        None,
        true,
    )
    .await?;
    let pdf = base64_decode(ok_body(&pdf_b64));
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let seal = scan_back(&pdf, dir.path());

    let (verdict, label) = scan_into_verify_page(ui, &seal).await?;
    assert_eq!((verdict.as_str(), label.as_str()), ("genuine", "真实"));
    let shown = ui.find("#seal-result").await?.text().await?;
    assert!(
        shown.contains("在有效期内") && shown.contains("登记中心"),
        "{shown}"
    );
    ui.screenshot("seal-genuine").await?;
    let problems = ui.a11y_problems().await?;
    assert!(problems.is_empty(), "genuine: {problems:?}");

    let mut changed = seal.clone();
    let last = changed.pop().unwrap();
    changed.push(if last == '0' { '1' } else { '0' });
    let (verdict, label) = scan_into_verify_page(ui, &changed).await?;
    assert_eq!((verdict.as_str(), label.as_str()), ("forged", "伪造"));
    ui.screenshot("seal-forged").await?;
    let problems = ui.a11y_problems().await?;
    assert!(problems.is_empty(), "forged: {problems:?}");

    // The offline page, as a citizen's phone would have it: no login, a photo of
    // the card's back decoded by the bundled jsQR, checked with WebCrypto.
    ui.logout().await?;
    let check_url = format!("{}check", ui.base);
    ui.client.goto(&check_url).await?;
    let trust = ui.find("#trust-info").await?.text().await?;
    assert!(trust.contains("签发机关 1 个"), "{trust}");
    let photo = dir.path().join("back.png");
    ui.find("#file")
        .await?
        .send_keys(photo.to_str().unwrap())
        .await?;
    let verdict = ui
        .wait_attr("#verdict", "data-verdict", Duration::from_secs(30))
        .await?;
    let shown = ui.find("#result").await?.text().await?;
    assert_eq!(verdict, "genuine", "{shown}");
    assert!(
        shown.contains("真实") && shown.contains("登记中心"),
        "{shown}"
    );
    // The demo is enrolled with no registry: the page says what it cannot know.
    assert!(
        shown.contains("卡面二维码不能显示年审和注销情况"),
        "{shown}"
    );
    // The page judges the printed dates by the device's own clock (a phone has no
    // other); the browser's clock is not the station's under the moved-clock run,
    // so the expected word is worked out from the browser's day.
    let browser_today = ui
        .client
        .execute("return new Date().toISOString().slice(0, 10);", vec![])
        .await?;
    let browser_today = browser_today.as_str().unwrap_or_default().to_owned();
    let period = shown
        .lines()
        .skip_while(|l| !l.starts_with("有效期"))
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let (from, until) = period.split_once(" 至 ").expect("有效期 a 至 b");
    let expected = if browser_today.as_str() < from {
        "尚未生效"
    } else if browser_today.as_str() > until {
        "已过有效期"
    } else {
        "在有效期内"
    };
    assert!(
        shown.contains(&format!("印制的有效期：{expected}")),
        "browser day {browser_today}, period {period}: {shown}"
    );
    ui.screenshot("check-genuine").await?;
    let problems = ui.a11y_problems().await?;
    assert!(problems.is_empty(), "/check genuine: {problems:?}");

    // A forged code: the changed text drawn as a QR image.
    let forged_svg = dir.path().join("forged.svg");
    std::fs::write(&forged_svg, card_seal::qr_svg(&changed).unwrap()).unwrap();
    ui.client.goto(&check_url).await?;
    ui.find("#file")
        .await?
        .send_keys(forged_svg.to_str().unwrap())
        .await?;
    let verdict = ui
        .wait_attr("#verdict", "data-verdict", Duration::from_secs(30))
        .await?;
    let label = ui.find("#verdict-label").await?.text().await?;
    assert_eq!((verdict.as_str(), label.as_str()), ("forged", "伪造"));
    ui.screenshot("check-forged").await?;

    // Pasted text that is not a seal.
    ui.fill("#text", "https://example.org/").await?;
    ui.find("#text").await?.send_keys("\n").await?;
    ui.wait_text(
        "#verdict-label",
        "不是执法证二维码",
        Duration::from_secs(10),
    )
    .await?;
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_faces_qr_typed_by_a_scanner_reads_genuine_and_a_changed_one_forged() {
    let ui = match Ui::start().await {
        Ok(ui) => ui,
        Err(e) => panic!("cannot start the browser test: {e}"),
    };
    let outcome = walk(&ui).await;
    if outcome.is_err() {
        let _ = ui.screenshot("seal-failure").await;
    }
    let log = ui.ecardd.log.clone();
    let _ = ui.close().await;
    if let Err(e) = outcome {
        panic!("{e}\n(ecardd log: {})", log.display());
    }
}
