#![allow(clippy::unwrap_used)]
//! A PIV card through the web UI of the real `ecardd demo`, nobody choosing the card
//! family: the issuer puts a factory-blank PIV card in a reader with 放入空白 PIV 卡
//! and writes an approved certificate onto it as onto any blank; the inspector
//! verifies it — 有效, 「PIV 标准卡」, and the photo said to be behind the holder's
//! PIN (not read, not a failed integrity check); the card goes to the demo tray,
//! listed as a PIV card by the serial its CHUID carries, and back; then a native card
//! verified in the same reader reads 「本系统卡」 with its photo. Every page is
//! screenshotted into target/ui-screenshots/piv-*.png and checked for accessibility
//! (our checks and axe-core), as in browser.rs.

use std::time::Duration;
use ui_tests::{Result, Ui};

const READER: &str = "演示读卡器 1";
const CARD_WAIT: Duration = Duration::from_secs(60);

fn reader_css(inner: &str) -> String {
    format!(".reader[data-reader=\"{READER}\"] {inner}")
}

/// Accessibility problems found so far, by page (asserted at the end, so that one
/// run reports every page's).
static PROBLEMS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

async fn page_done(ui: &Ui, name: &str) -> Result<()> {
    ui.screenshot(name).await?;
    let problems = ui.a11y_problems().await?;
    if let Ok(mut all) = PROBLEMS.lock() {
        all.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
    }
    Ok(())
}

/// Writes the first approved certificate onto the card in `READER` from the 制证
/// page; returns the card serial the result shows and its text.
async fn issue_first_approved(ui: &Ui) -> Result<(String, String)> {
    ui.goto("issue").await?;
    ui.click(&reader_css("input[type=radio]")).await?;
    ui.click("#approved-table button[data-issue]").await?;
    let serial = ui
        .wait_attr("#issue-result [data-serial]", "data-serial", CARD_WAIT)
        .await?;
    let text = ui
        .wait_text("#issue-result", "有效", Duration::from_secs(5))
        .await?;
    Ok((serial, text))
}

/// Verifies the card in `READER` from the 验证 page; returns the verdict's label.
async fn verify(ui: &Ui) -> Result<String> {
    ui.goto("verify").await?;
    ui.click(&reader_css("input[type=radio]")).await?;
    assert!(
        !ui.exists("#verdict").await?,
        "a verdict from an earlier visit is still shown"
    );
    ui.click("#verify-go").await?;
    ui.wait_attr("#verdict", "data-standing", CARD_WAIT).await?;
    Ok(ui.find("#verdict-label").await?.text().await?)
}

/// Waits for the photo slot to settle (the photo follows the verdict); returns its
/// text.
async fn settled_photo_slot(ui: &Ui) -> Result<String> {
    let deadline = std::time::Instant::now() + CARD_WAIT;
    while ui.exists("#photo-wait").await? {
        if std::time::Instant::now() > deadline {
            return Err("the photo slot still says it is reading the photo".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(ui.find("#photo-slot").await?.text().await?)
}

/// The photo check's row in 逐项核验: its outcome and text.
async fn photo_row(ui: &Ui) -> Result<(String, String)> {
    let row = ui
        .find("#checks tr[data-check=file_hash][data-file=Photo]")
        .await?;
    Ok((
        row.attr("data-outcome").await?.unwrap_or_default(),
        row.text().await?,
    ))
}

async fn walkthrough(ui: &Ui) -> Result<()> {
    // 制证员 puts a factory-blank PIV card into reader 1.
    ui.client.goto(&ui.base).await?;
    ui.login("zhizheng").await?;
    ui.goto("readers").await?;
    ui.click(&reader_css("button[data-action=insert-blank-piv]"))
        .await?;
    ui.wait_text(&reader_css(".state"), "有卡", CARD_WAIT)
        .await?;
    ui.wait_text("#notice", "空白 PIV 标准卡", Duration::from_secs(10))
        .await?;
    page_done(ui, "piv-01-readers").await?;

    // 制证: the same 写卡 as for a native blank; the result names the family.
    let (serial, issued) = issue_first_approved(ui).await?;
    assert_eq!(serial.len(), 16, "card serial {serial:?}");
    assert!(
        issued.contains("PIV 标准卡"),
        "the issue result does not name the family: {issued}"
    );
    let family = ui
        .find("#issue-result [data-family]")
        .await?
        .attr("data-family")
        .await?;
    assert_eq!(family.as_deref(), Some("piv"));
    ui.scroll_to("#issue-result").await?;
    page_done(ui, "piv-02-issue").await?;
    ui.logout().await?;

    // 检查员 verifies it: 有效, a PIV card, the photo not read for want of the PIN.
    ui.login("jiancha").await?;
    let label = verify(ui).await?;
    assert_eq!(label, "有效");
    let banner = ui.find("#verdict").await?.text().await?;
    assert!(
        banner.contains("PIV 标准卡") && banner.contains(&serial),
        "the verdict does not say PIV 标准卡 and the serial: {banner}"
    );
    let slot = settled_photo_slot(ui).await?;
    assert!(
        slot.contains("照片：需持证人输入 PIN，未读取"),
        "photo slot: {slot:?}"
    );
    assert!(
        slot.contains("PIV 标准卡的照片须持证人输入 PIN 后读取"),
        "the reason is not given: {slot:?}"
    );
    assert!(
        !ui.exists("#photo-refused").await? && !ui.exists("#photo-failed").await?,
        "the unread photo is shown as a failure: {slot:?}"
    );
    assert!(!ui.exists("#photo-slot img").await?, "a photo is shown");
    assert!(
        !ui.exists("#photo-slot [role=alert]").await?,
        "an unread photo is announced as an alert"
    );
    let (outcome, row) = photo_row(ui).await?;
    assert_eq!(outcome, "warning", "photo check row: {row}");
    assert!(row.contains("须持证人输入 PIN"), "photo check row: {row}");
    // The standing is not corrected by the photo: still 有效.
    assert_eq!(
        ui.find("#verdict").await?.attr("data-standing").await?,
        Some("valid".into())
    );
    assert_eq!(ui.find("#verdict-label").await?.text().await?, "有效");
    ui.scroll_to("#verdict").await?;
    page_done(ui, "piv-03-verify").await?;

    // The demo tray: taken out, the card is listed by its serial as a written PIV
    // card, and goes back into the reader.
    ui.click(&reader_css("button[data-action=eject]")).await?;
    ui.wait_text(&reader_css(".state"), "无卡", CARD_WAIT)
        .await?;
    let option = reader_css(&format!(
        "select[data-role=tray] option[value=\"{serial}\"]"
    ));
    ui.wait_text(&option, "PIV 标准卡", Duration::from_secs(10))
        .await?;
    let listed = ui.find(&option).await?.text().await?;
    assert!(
        listed.contains("已制证"),
        "tray entry does not say it was written: {listed}"
    );
    assert_eq!(
        ui.find(&option).await?.attr("data-family").await?,
        Some("piv".into())
    );
    ui.scroll_to(&reader_css("select[data-role=tray]")).await?;
    page_done(ui, "piv-04-tray").await?;
    // The longer tray entry does not make the page scroll sideways at 320 CSS px
    // (1280 px at 400 % zoom).
    ui.set_width(320, 800).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (over, what) = ui.sideways_overflow().await?;
    ui.scroll_to(&reader_css("select[data-role=tray]")).await?;
    page_done(ui, "piv-04-tray-320px").await?;
    ui.set_width(1366, 768).await?;
    assert!(
        over <= 0,
        "at 320 px the page with a PIV card on the tray scrolls sideways by {over} px ({what})"
    );
    ui.find(&option).await?.click().await?;
    ui.click(&reader_css("button[data-action=insert]")).await?;
    ui.wait_text(&reader_css(".state"), "有卡", CARD_WAIT)
        .await?;
    ui.click("#verify-go").await?;
    // The earlier verdict is replaced; wait for the new one naming the same card.
    ui.wait_text("#verdict", &serial, CARD_WAIT).await?;
    ui.wait_attr("#verdict", "data-standing", CARD_WAIT).await?;
    let again = ui.find("#verdict").await?.text().await?;
    assert!(
        again.contains("有效") && again.contains("PIV 标准卡"),
        "after the tray: {again}"
    );
    settled_photo_slot(ui).await?;
    ui.click(&reader_css("button[data-action=eject]")).await?;
    ui.wait_text(&reader_css(".state"), "无卡", CARD_WAIT)
        .await?;
    ui.logout().await?;

    // A native card written and verified in the same reader reads 本系统卡.
    ui.login("zhizheng").await?;
    ui.goto("issue").await?;
    ui.click(&reader_css("button[data-action=insert-blank]"))
        .await?;
    ui.wait_text(&reader_css(".state"), "有卡", CARD_WAIT)
        .await?;
    let (native_serial, issued) = issue_first_approved(ui).await?;
    assert_ne!(native_serial, serial);
    assert!(issued.contains("本系统卡"), "native issue result: {issued}");
    ui.logout().await?;
    ui.login("jiancha").await?;
    let label = verify(ui).await?;
    assert_eq!(label, "有效");
    let banner = ui.find("#verdict").await?.text().await?;
    assert!(
        banner.contains("本系统卡") && !banner.contains("PIV"),
        "native verdict: {banner}"
    );
    assert_eq!(
        ui.find("#verify-result [data-family]")
            .await?
            .attr("data-family")
            .await?,
        Some("native".into())
    );
    ui.find("#photo-slot img.photo").await?;
    // The chip photo is a data: URL; it must be drawn, not blocked (an image the page
    // may not load shows its alt text in a box).
    let mut drawn = serde_json::Value::Null;
    for _ in 0..50 {
        drawn = ui
            .client
            .execute(
                "const i = document.querySelector('#photo-slot img.photo'); return i.complete && i.naturalWidth;",
                vec![],
            )
            .await?;
        if drawn.as_i64().is_some_and(|w| w > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        drawn.as_i64().is_some_and(|w| w > 0),
        "the native card's photo is not drawn (naturalWidth {drawn})"
    );
    assert!(!ui.exists("#photo-unread").await?);
    let (outcome, row) = photo_row(ui).await?;
    assert_eq!(outcome, "passed", "native photo check row: {row}");
    ui.scroll_to("#verdict").await?;
    page_done(ui, "piv-05-verify-native").await?;

    let problems = PROBLEMS.lock().map(|p| p.clone()).unwrap_or_default();
    assert!(
        problems.is_empty(),
        "accessibility problems (our checks and axe-core):\n{}",
        problems.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piv_card_is_issued_and_verified_and_named_beside_a_native_card() {
    let ui = match Ui::start().await {
        Ok(ui) => ui,
        Err(e) => panic!("cannot start the browser test: {e}"),
    };
    let outcome = walkthrough(&ui).await;
    if outcome.is_err() {
        let _ = ui.screenshot("piv-failure").await;
    }
    let log = ui.ecardd.log.clone();
    let _ = ui.close().await;
    if let Err(e) = outcome {
        panic!(
            "{e}\n(screenshot: target/ui-screenshots/piv-failure.png; ecardd log: {})",
            log.display()
        );
    }
}
