#![allow(clippy::unwrap_used)]
//! The web UI in headless chromium against the real `ecardd demo`: an issuer writes
//! a card and verifies it (有效), a reviewer records the annual review on the card,
//! the issuer cancels the certificate with the card in the reader and the verdict
//! becomes 已注销; an inspector does not see 制证 and is refused when opening it.
//! Every page is screenshotted into target/ui-screenshots/ and checked for the basics
//! of accessibility (lang, labels, alt text, accessible names) and by axe-core, which
//! must find no violation (scripts/install-axe-core.sh installs it).

use std::time::Duration;
use ui_tests::{Result, Ui};

const READER: &str = "演示读卡器 1";
const READER_2: &str = "演示读卡器 2";
const CARD_WAIT: Duration = Duration::from_secs(60);

fn reader_css(reader: &str, inner: &str) -> String {
    format!(".reader[data-reader=\"{reader}\"] {inner}")
}

/// Accessibility problems found so far, by page: the walk goes on past a page with
/// problems, so that one run reports every page's (asserted at the end).
static PROBLEMS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn note_problems(name: &str, problems: Vec<String>) {
    if let Ok(mut all) = PROBLEMS.lock() {
        all.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
    }
}

/// Screenshot + accessibility check (our own checks and axe-core) of the page as it
/// is now.
async fn page_done(ui: &Ui, name: &str) -> Result<()> {
    ui.screenshot(name).await?;
    let problems = ui.a11y_problems().await?;
    note_problems(name, problems);
    Ok(())
}

/// The page at 320 CSS px wide (1280 px at 400 % zoom): it must not scroll sideways
/// (WCAG 1.4.10), and axe-core must find nothing there either.
async fn reflows_at_320(ui: &Ui, name: &str) -> Result<()> {
    ui.set_width(320, 800).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let inner = ui
        .client
        .execute("return window.innerWidth;", vec![])
        .await?;
    assert!(
        inner.as_i64().unwrap_or(9999) <= 330,
        "the window did not narrow to 320 px: innerWidth {inner}"
    );
    let (over, what) = ui.sideways_overflow().await?;
    ui.screenshot(&format!("{name}-320px")).await?;
    let problems = ui.a11y_problems().await?;
    note_problems(&format!("{name} at 320 px"), problems);
    if over > 0 {
        note_problems(
            name,
            vec![format!(
                "at 320 px the page scrolls sideways by {over} px ({what})"
            )],
        );
    }
    ui.set_width(1366, 768).await?;
    Ok(())
}

/// A card put in or taken out is said aloud on pages that act on a card.
async fn announced(ui: &Ui, needle: &str) -> Result<()> {
    ui.wait_text(
        "#page [data-role=reader-announce][role=status]",
        needle,
        Duration::from_secs(20),
    )
    .await?;
    Ok(())
}

/// Chooses `READER` in the page's reader panel.
async fn choose_reader(ui: &Ui) -> Result<()> {
    ui.click(&reader_css(READER, "input[type=radio]")).await?;
    Ok(())
}

async fn verify_at_reader(ui: &Ui) -> Result<String> {
    ui.goto("verify").await?;
    choose_reader(ui).await?;
    // A verdict from an earlier visit must not be mistaken for this one.
    assert!(!ui.exists("#verdict").await?);
    ui.click("#verify-go").await?;
    ui.wait_attr("#verdict", "data-standing", CARD_WAIT).await?;
    Ok(ui.find("#verdict-label").await?.text().await?)
}

async fn walkthrough(ui: &Ui) -> Result<()> {
    // 登录
    ui.client.goto(&ui.base).await?;
    ui.find("#login-username").await?;
    page_done(ui, "01-login").await?;

    // A wrong password is refused with the server's message and the username kept.
    ui.fill("#login-username", "zhizheng").await?;
    ui.fill("#login-password", "wrong").await?;
    ui.click("#login-submit").await?;
    ui.wait_text("#alert", "用户名或密码错误", Duration::from_secs(10))
        .await?;
    let kept = ui.find("#login-username").await?.prop("value").await?;
    assert_eq!(kept.as_deref(), Some("zhizheng"), "form lost the username");

    // 制证员 (by keyboard only): the navigation offers 制证 and not 设置.
    ui.login_by_keyboard("zhizheng").await?;
    let nav = ui.nav_routes().await?;
    assert!(nav.contains(&"issue".to_string()), "issuer nav: {nav:?}");
    assert!(
        !nav.contains(&"settings".to_string()),
        "issuer nav: {nav:?}"
    );
    assert!(!nav.contains(&"review".to_string()), "issuer nav: {nav:?}");

    // 读卡器: put a blank card into reader 1; the SSE stream updates the panel.
    ui.goto("readers").await?;
    ui.click(&reader_css(READER, "button[data-action=insert-blank]"))
        .await?;
    ui.wait_text(&reader_css(READER, ".state"), "有卡", CARD_WAIT)
        .await?;
    ui.wait_text(".event-log", "已插入卡片", Duration::from_secs(20))
        .await?;
    page_done(ui, "02-readers").await?;
    // The event log is a list inside a live region (role=log on the <ol> itself took
    // its list semantics away).
    assert!(ui.exists("[role=log] > ol.event-log").await?);
    assert!(!ui.exists("ol[role]").await?);
    reflows_at_320(ui, "02-readers").await?;

    // 制证: write the first approved certificate at reader 1.
    ui.goto("issue").await?;
    choose_reader(ui).await?;
    let first = ui.find("#approved-table button[data-issue]").await?;
    let cert_id = first.attr("data-issue").await?.unwrap();
    first.click().await?;
    let serial = ui
        .wait_attr("#issue-result [data-serial]", "data-serial", CARD_WAIT)
        .await?;
    assert_eq!(serial.len(), 16, "card serial {serial:?}");
    let written_for = ui
        .find("#issue-result [data-certificate]")
        .await?
        .attr("data-certificate")
        .await?;
    assert_eq!(written_for.as_deref(), Some(cert_id.as_str()));
    ui.wait_text("#issue-result", "有效", Duration::from_secs(5))
        .await?;
    // The row and its 写卡 button are gone; focus went to the result, not the body.
    let mut focus_in_result = serde_json::Value::Null;
    for _ in 0..50 {
        focus_in_result = ui
            .client
            .execute(
                "return document.getElementById('issue-result').contains(document.activeElement);",
                vec![],
            )
            .await?;
        if focus_in_result == serde_json::json!(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        focus_in_result,
        serde_json::json!(true),
        "focus did not move to the result after 写卡"
    );
    // The certificate left the approved list.
    let row = format!("#approved-table tr[data-cert-row=\"{cert_id}\"]");
    for _ in 0..50 {
        if !ui.exists(&row).await? {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!ui.exists(&row).await?, "written certificate still listed");
    ui.scroll_to("#issue-result").await?;
    page_done(ui, "03-issue").await?;
    reflows_at_320(ui, "03-issue").await?;

    // 验证: 有效, with photo, holder data and every check listed.
    let label = verify_at_reader(ui).await?;
    assert_eq!(label, "有效");
    let checks = ui
        .client
        .find_all(fantoccini::Locator::Css("#checks tbody tr"))
        .await?;
    assert!(checks.len() >= 5, "only {} checks listed", checks.len());
    // The photo follows the verdict; once it is in, its hash check row says passed.
    let photo = ui.find("#photo-slot img.photo").await?;
    ui.find("#checks tr[data-check=\"file_hash\"][data-file=\"Photo\"][data-outcome=\"passed\"]")
        .await?;
    assert!(photo
        .attr("alt")
        .await?
        .unwrap_or_default()
        .contains("照片"));
    let result_text = ui.find("#verify-result").await?.text().await?;
    assert!(result_text.contains(&serial), "serial not shown");
    assert!(
        result_text.contains("芯片"),
        "chip authentication check missing"
    );
    // One vocabulary: outcomes, posts and check names in words, no codes.
    assert!(result_text.contains("通过"), "outcome word missing");
    assert!(
        result_text.contains("依职权") || result_text.contains("依申请"),
        "posts shown as codes: {result_text}"
    );
    for code in ["passed", "LifeCycle", "01,02", "enforcement"] {
        assert!(
            !result_text.contains(code),
            "code {code:?} shown: {result_text}"
        );
    }
    page_done(ui, "04-verify").await?;
    reflows_at_320(ui, "04-verify").await?;

    // 批量制证 of two more certificates at reader 2, fed card by card from the
    // issue page's own reader panel; progress arrives through SSE `job` events.
    ui.goto("issue").await?;
    let boxes = ui
        .wait_count(
            "#approved-table input[type=checkbox]",
            2,
            Duration::from_secs(10),
        )
        .await?;
    assert!(boxes.len() >= 2, "approved list has {} rows", boxes.len());
    boxes[0].click().await?;
    boxes[1].click().await?;
    // Only reader 2 writes this batch (reader 1 still holds the card written above).
    ui.click(&format!("#batch-readers input[value=\"{READER_2}\"]"))
        .await?;
    if ui
        .find(&format!("#batch-readers input[value=\"{READER}\"]"))
        .await?
        .is_selected()
        .await?
    {
        ui.click(&format!("#batch-readers input[value=\"{READER}\"]"))
            .await?;
    }
    ui.click("#batch-start").await?;
    ui.wait_text("#bp-summary", "共 2 张", Duration::from_secs(10))
        .await?;
    for done in 1..=2 {
        ui.click(&reader_css(READER_2, "button[data-action=insert-blank]"))
            .await?;
        announced(ui, &format!("「{READER_2}」已插入卡片")).await?;
        ui.wait_text("#bp-summary", &format!("完成 {done}"), CARD_WAIT)
            .await?;
        ui.click(&reader_css(READER_2, "button[data-action=eject]"))
            .await?;
        ui.wait_text(&reader_css(READER_2, ".state"), "无卡", CARD_WAIT)
            .await?;
        announced(ui, &format!("「{READER_2}」卡片已取出")).await?;
    }
    let bar = ui
        .client
        .execute(
            "const b = document.getElementById('batch-bar'); return [b.value, b.max];",
            vec![],
        )
        .await?;
    assert_eq!(bar, serde_json::json!([2, 2]), "batch progress bar");
    // The batches list (GET /batches) shows the batch as complete, with nothing to resume.
    let batch_id = ui
        .wait_attr("#batch-progress", "data-batch", Duration::from_secs(5))
        .await?;
    let batch_row = format!("#batches-table tr[data-batch=\"{batch_id}\"]");
    ui.wait_text(&batch_row, "完成 2/2", Duration::from_secs(10))
        .await?;
    ui.wait_text(&batch_row, "全部完成", Duration::from_secs(10))
        .await?;
    assert!(
        !ui.exists(&format!("{batch_row} button[data-resume-batch]"))
            .await?,
        "a finished batch offers 继续写卡"
    );
    assert!(
        ui.exists(&format!("{batch_row} button[data-view-batch]"))
            .await?
    );
    ui.scroll_to("#batch-progress").await?;
    page_done(ui, "05-batch").await?;

    // 导入 and 记录 as the issuer (screenshots and accessibility).
    ui.goto("import").await?;
    // A file that is not a roster is refused with the server's message; the chosen
    // file stays chosen.
    let bogus = ui.shots.join("not-a-roster.xlsx");
    std::fs::write(&bogus, b"this is not an xlsx file")?;
    ui.find("#import-roster")
        .await?
        .send_keys(&bogus.to_string_lossy())
        .await?;
    ui.click("#import-submit").await?;
    let mut alert = String::new();
    for _ in 0..150 {
        alert = ui.alert_text().await?;
        if !alert.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        alert
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "import error not shown in Chinese: {alert:?}"
    );
    // What to do (save as .xlsx from the official template), no library text, and no
    // error table (a file that is not a workbook has no rows to list).
    assert!(
        alert.contains(".xlsx") && alert.contains("模板"),
        "import error does not say what to do: {alert:?}"
    );
    assert!(!alert.contains("Zip"), "library text shown: {alert:?}");
    assert!(
        !ui.exists("#import-errors").await?,
        "an empty error table is shown"
    );
    let kept = ui
        .client
        .execute(
            "return document.getElementById('import-roster').files.length;",
            vec![],
        )
        .await?;
    assert_eq!(
        kept,
        serde_json::json!(1),
        "the chosen roster file was lost"
    );
    std::fs::remove_file(&bogus)?;
    page_done(ui, "06-import").await?;
    ui.goto(&format!("records?id={cert_id}")).await?;
    ui.wait_text("#record-detail", &serial, Duration::from_secs(10))
        .await?;
    let detail = ui.find("#record-detail").await?.text().await?;
    assert!(detail.contains("在用"), "card state word missing: {detail}");
    assert!(
        detail.contains("依职权") || detail.contains("依申请"),
        "posts shown as codes: {detail}"
    );
    page_done(ui, "07-records").await?;
    // At 1280 px the list's names stay on one line (a squeezed column showed a name
    // one character per line).
    ui.set_width(1280, 800).await?;
    ui.wait_count("#records-list td[data-name]", 1, Duration::from_secs(10))
        .await?;
    let broken = ui
        .client
        .execute(
            r#"return [...document.querySelectorAll('#records-list td[data-name]')]
                 .filter((td) => { const r = document.createRange(); r.selectNodeContents(td);
                                   return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size > 1; })
                 .map((td) => td.textContent);"#,
            vec![],
        )
        .await?;
    ui.screenshot("07-records-1280px").await?;
    assert_eq!(
        broken,
        serde_json::json!([]),
        "names broken over lines at 1280 px"
    );
    ui.set_width(1366, 768).await?;
    ui.logout().await?;

    // 年审员: read the card, confirm, written to the card.
    ui.login("nianshen").await?;
    let nav = ui.nav_routes().await?;
    assert!(nav.contains(&"review".to_string()), "reviewer nav: {nav:?}");
    assert!(!nav.contains(&"issue".to_string()), "reviewer nav: {nav:?}");
    ui.goto("review").await?;
    choose_reader(ui).await?;
    ui.click("#pick-read").await?;
    let picked = ui
        .wait_attr(
            "#chosen-cert [data-certificate]",
            "data-certificate",
            CARD_WAIT,
        )
        .await?;
    assert_eq!(picked, cert_id);
    ui.fill("#review-remark", "界面测试年审").await?;
    ui.click("#review-submit").await?;
    let written_to = ui
        .wait_attr(
            "#review-done [data-written-to]",
            "data-written-to",
            CARD_WAIT,
        )
        .await?;
    assert_eq!(written_to, serial, "review not written to the card");
    // The year's schedule loads (the certificate just issued is exempt this year).
    ui.click("#schedule-form button[type=submit]").await?;
    ui.wait_text("#schedule", "年度", Duration::from_secs(10))
        .await?;
    ui.scroll_to("#review-done").await?;
    page_done(ui, "08-review").await?;
    ui.logout().await?;

    // 制证员: cancel (注销) with the card in the reader.
    ui.login("zhizheng").await?;
    ui.goto("status").await?;
    choose_reader(ui).await?;
    ui.click("#pick-read").await?;
    let picked = ui
        .wait_attr(
            "#chosen-cert [data-certificate]",
            "data-certificate",
            CARD_WAIT,
        )
        .await?;
    assert_eq!(picked, cert_id);
    // Nothing irreversible is chosen for the user, and the page is called what the
    // navigation calls it.
    assert!(
        !ui.exists("#status-kind input:checked").await?,
        "the status page preselects a change"
    );
    let heading = ui.find("#page h1").await?.text().await?;
    let link = ui
        .find("#nav-list a[data-route=status]")
        .await?
        .text()
        .await?;
    assert_eq!(heading, link, "navigation label and page heading differ");
    ui.click("#status-kind input[value=cancel]").await?;
    ui.fill("#status-reason", "调离执法岗位").await?;
    ui.fill("#status-destination", "调往某区档案馆").await?;
    // Submitting without the confirmation is refused and keeps what was typed.
    ui.click("#status-submit").await?;
    ui.wait_text("#alert", "我已核对", Duration::from_secs(5))
        .await?;
    let reason = ui.find("#status-reason").await?.prop("value").await?;
    assert_eq!(reason.as_deref(), Some("调离执法岗位"));
    ui.click("#status-confirm").await?;
    // Recorded first without writing the card, then the recorded status written to
    // the card with its own button.
    ui.click("#status-to-card").await?;
    ui.click("#status-submit").await?;
    let state = ui
        .wait_attr("#status-done [data-state]", "data-state", CARD_WAIT)
        .await?;
    assert_eq!(state, "cancelled");
    let written = ui
        .find("#status-done [data-state]")
        .await?
        .attr("data-card-written")
        .await?;
    assert_eq!(written.as_deref(), Some("no"));
    ui.click("#status-write-card").await?;
    ui.wait_text("#status-done", &serial, CARD_WAIT).await?;
    let written = ui
        .find("#status-done [data-state]")
        .await?
        .attr("data-card-written")
        .await?;
    assert_eq!(written.as_deref(), Some("yes"));
    ui.scroll_to("#status-done").await?;
    page_done(ui, "09-status").await?;

    // 验证 again: 已注销.
    let label = verify_at_reader(ui).await?;
    assert_eq!(label, "已注销");
    let cancelled = ui.find("#verify-result").await?.text().await?;
    assert!(
        !cancelled.contains("复制卡"),
        "a cancelled card read as a suspected copy: {cancelled}"
    );
    page_done(ui, "10-verify-cancelled").await?;
    ui.logout().await?;

    // 管理员: records with the audit log, settings.
    ui.login("guanli").await?;
    ui.goto("records").await?;
    ui.wait_text("#audit", "zhizheng", Duration::from_secs(10))
        .await?;
    // Actions and details in words, not codes.
    ui.wait_text("#audit", "登录", Duration::from_secs(5))
        .await?;
    let audit = ui.find("#audit").await?.text().await?;
    for code in ["session.login", "card.issued", "role: "] {
        assert!(!audit.contains(code), "audit shows {code:?}");
    }
    page_done(ui, "11-records-audit").await?;
    ui.goto("settings").await?;
    ui.wait_text("#operators", "jiancha", Duration::from_secs(10))
        .await?;
    ui.wait_text("#settings-box", "信任列表", Duration::from_secs(10))
        .await?;
    ui.wait_text("#sync-box", "待上传记录", Duration::from_secs(10))
        .await?;
    // Trust list: one root. Removing it asks first and says every card would fail;
    // 取消 keeps it (later steps verify cards).
    ui.wait_text("#trust", "共 1 个根公钥", Duration::from_secs(10))
        .await?;
    let roots = ui
        .client
        .find_all(fantoccini::Locator::Css("#trust-table tbody tr"))
        .await?;
    assert_eq!(roots.len(), 1, "trust list rows");
    ui.click("#trust-table button[data-remove-trust]").await?;
    ui.wait_text("#trust-confirm", "每一张卡", Duration::from_secs(5))
        .await?;
    ui.screenshot("12-settings-trust-confirm").await?;
    ui.click("#trust-remove-cancel").await?;
    assert!(!ui.find("#trust-confirm").await?.is_displayed().await?);
    assert!(ui.exists("#trust-table tbody tr").await?);
    // Pasting something that is not JSON is refused; the text stays.
    let not_json = "{\"name\": \"省级根\", \"key_id\": ";
    ui.fill("#trust-anchor", not_json).await?;
    ui.click("#trust-add").await?;
    ui.wait_text("#alert", "不是有效的 JSON", Duration::from_secs(5))
        .await?;
    let kept = ui.find("#trust-anchor").await?.prop("value").await?;
    assert_eq!(kept.as_deref(), Some(not_json), "the pasted text was lost");
    // A well-formed anchor whose key id does not match its key: the server's message.
    let forged = ui
        .client
        .execute(
            "const x = new XMLHttpRequest(); x.open('GET', 'api/v1/trust', false); x.send();
             const a = JSON.parse(x.responseText)[0]; a.key_id = '0'.repeat(a.key_id.length);
             return JSON.stringify(a);",
            vec![],
        )
        .await?;
    let forged = forged.as_str().unwrap().to_string();
    ui.fill("#trust-anchor", &forged).await?;
    ui.click("#trust-add").await?;
    ui.wait_text("#alert", "不符", Duration::from_secs(10))
        .await?;
    let kept = ui.find("#trust-anchor").await?.prop("value").await?;
    assert_eq!(
        kept.as_deref(),
        Some(forged.as_str()),
        "the pasted anchor was lost"
    );
    ui.wait_text("#trust", "共 1 个根公钥", Duration::from_secs(5))
        .await?;
    ui.scroll_to("#trust").await?;
    page_done(ui, "12-settings").await?;
    reflows_at_320(ui, "12-settings").await?;
    ui.logout().await?;

    // 检查员: no 制证 in the navigation; opening it directly is refused by the server.
    // The admin logged out on 设置; the inspector logging in at the same screen starts
    // on their own first page, not on the admin's page (which would be refused).
    ui.login("jiancha").await?;
    let nav = ui.nav_routes().await?;
    let landed = ui
        .wait_attr(
            "#nav-list a[aria-current=page]",
            "data-route",
            Duration::from_secs(5),
        )
        .await?;
    assert_eq!(Some(&landed), nav.first(), "inspector landed on {landed}");
    assert!(
        !ui.exists("#refusal").await?,
        "inspector landed on a refusal"
    );
    assert!(
        !nav.contains(&"issue".to_string()),
        "inspector nav: {nav:?}"
    );
    assert!(
        nav.contains(&"verify".to_string()),
        "inspector nav: {nav:?}"
    );
    ui.goto("issue").await?;
    ui.wait_text("#refusal", "无权", Duration::from_secs(5))
        .await?;
    ui.wait_text("#alert", "无权", Duration::from_secs(10))
        .await?;
    assert!(!ui.exists("#approved-table").await?);
    page_done(ui, "13-refused").await?;
    let problems = PROBLEMS.lock().map(|p| p.clone()).unwrap_or_default();
    assert!(
        problems.is_empty(),
        "accessibility problems (our checks and axe-core):\n{}",
        problems.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_verify_review_cancel_and_role_refusal() {
    let ui = match Ui::start().await {
        Ok(ui) => ui,
        Err(e) => panic!("cannot start the browser test: {e}"),
    };
    let outcome = walkthrough(&ui).await;
    if outcome.is_err() {
        let _ = ui.screenshot("failure").await;
    }
    let log = ui.ecardd.log.clone();
    let _ = ui.close().await;
    if let Err(e) = outcome {
        panic!(
            "{e}\n(screenshot: target/ui-screenshots/failure.png; ecardd log: {})",
            log.display()
        );
    }
}
