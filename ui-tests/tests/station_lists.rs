#![allow(clippy::unwrap_used)]
//! The station's action lists, filing forms and the unit review mark in headless
//! chromium against the real `ecardd demo` process: an issuer's 补证 of a card lost
//! two weeks ago shows on 待办提醒 as overdue (3 working days), the expiring list
//! follows the chosen number of days; 报送表格 offers 附件1–4 of the chosen 填报单位
//! (each link answers an xlsx) and the printable 申领人员名单 holds the unit's pending
//! application; a reviewer marks a whole unit's review at once (confirm, then every
//! row of the unit reads done). Every page is checked by our accessibility checks
//! and axe-core (ui_tests::A11yCheck), which must find nothing.

use serde_json::{json, Value};
use std::time::Duration;
use ui_tests::{Result, Ui};

const READER: &str = "演示读卡器 1";
const MARKET: &str = "演示市市场监督管理局";
const FARMING: &str = "演示县农业农村局";
const LONG: Duration = Duration::from_secs(30);

/// One API call from inside the page (the session's cookie, the UI's header).
async fn call(ui: &Ui, method: &str, path: &str, body: Value) -> Result<(u16, Value)> {
    let js = r#"
        const [method, path, body, done] = arguments;
        const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
        if (method !== "GET") init.headers["X-Requested-With"] = "ecard";
        if (body !== null) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
        fetch("api/v1/" + path, init)
          .then(async (r) => {
            const type = r.headers.get("content-type") || "";
            done({ status: r.status, type, body: type.includes("json") ? await r.json() : null });
          })
          .catch((e) => done({ status: 0, body: String(e) }));
    "#;
    let v = ui
        .client
        .execute_async(js, vec![json!(method), json!(path), body])
        .await?;
    let status = v["status"].as_u64().unwrap_or(0) as u16;
    Ok((status, v))
}

/// Writes a card for `certificate` in the demo reader (blank in, issue, out).
async fn issue(ui: &Ui, certificate: i64) -> Result<()> {
    let reader = READER.replace(' ', "%20");
    let (s, v) = call(
        ui,
        "POST",
        &format!("demo/readers/{reader}/insert-blank"),
        Value::Null,
    )
    .await?;
    assert_eq!(s, 200, "insert a blank: {v}");
    let (s, v) = call(
        ui,
        "POST",
        "issue",
        json!({ "certificate_id": certificate, "reader": READER }),
    )
    .await?;
    assert_eq!(s, 200, "issue {certificate}: {v}");
    let (s, v) = call(
        ui,
        "POST",
        &format!("demo/readers/{reader}/eject"),
        Value::Null,
    )
    .await?;
    assert_eq!(s, 200, "eject: {v}");
    Ok(())
}

/// Chooses `value` in the select `css` once its options are there.
async fn choose(ui: &Ui, css: &str, value: &str) -> Result<()> {
    ui.wait_count(&format!("{css} option[value=\"{value}\"]"), 1, LONG)
        .await?;
    ui.client
        .execute(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change'));",
            vec![json!(css), json!(value)],
        )
        .await?;
    Ok(())
}

async fn checked(ui: &Ui, name: &str, problems: &mut Vec<String>) -> Result<()> {
    ui.screenshot(name).await?;
    problems.extend(
        ui.a11y_problems()
            .await?
            .into_iter()
            .map(|p| format!("{name}: {p}")),
    );
    Ok(())
}

async fn walk(ui: &Ui) -> Result<()> {
    let mut problems = Vec::new();
    ui.login("zhizheng").await?;
    let nav = ui.nav_routes().await?;
    assert!(
        nav.contains(&"lists".to_string()) && nav.contains(&"forms".to_string()),
        "{nav:?}"
    );

    // The demo's approved certificates by unit; write the market's two and one farming.
    let (s, certs) = call(ui, "GET", "certificates?state=approved", Value::Null).await?;
    assert_eq!(s, 200, "{certs}");
    let of = |unit: &str| -> Vec<i64> {
        certs["body"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["unit"] == unit)
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    let (market, farming) = (of(MARKET), of(FARMING));
    assert_eq!(market.len(), 2, "{certs}");
    for id in market.iter().chain(&farming[..1]) {
        issue(ui, *id).await?;
    }
    // 补证 of the farming card, lost two weeks ago: its 3 working days are over.
    let (_, session) = call(ui, "GET", "session", Value::Null).await?;
    let today = session["body"]["today"].as_str().unwrap().to_owned();
    let lost = ui
        .client
        .execute(
            "const d = new Date(arguments[0] + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() - 14); return d.toISOString().slice(0, 10);",
            vec![json!(today)],
        )
        .await?;
    let lost = lost.as_str().unwrap().to_owned();
    let (s, v) = call(
        ui,
        "POST",
        &format!("certificates/{}/status", farming[0]),
        json!({ "kind": "reissue", "lost_on": lost, "void_declared_how": "登报声明",
                "void_declared_on": lost, "void_reference": "某日报第3版" }),
    )
    .await?;
    assert_eq!(s, 200, "{v}");

    // 待办提醒: the overdue 补证, the pending filing, and the expiring window.
    ui.goto("lists").await?;
    ui.wait_count("#lists-overdue-out tr[data-what=filing]", 1, LONG)
        .await?;
    let overdue = ui.find("#lists-overdue-out").await?.text().await?;
    assert!(
        overdue.contains("补证") && overdue.contains("已逾期"),
        "{overdue}"
    );
    ui.wait_count("#lists-filings-out tr[data-overdue=yes]", 1, LONG)
        .await?;
    ui.wait_text("#lists-expiring-out", "90 天内没有到期", LONG)
        .await?;
    ui.fill("#lists-days", "3650").await?;
    ui.click("#lists-days-submit").await?;
    // The five demo certificates but the voided one.
    ui.wait_count("#lists-expiring-out tbody tr", 4, LONG)
        .await?;
    ui.find("#lists-retiring-out p, #lists-retiring-out table")
        .await?;
    checked(ui, "lists", &mut problems).await?;

    // 报送表格: the farming unit's forms and its 申领人员名单.
    ui.goto("forms").await?;
    choose(ui, "#forms-unit", FARMING).await?;
    let links = ui.wait_count("#forms-links a[data-form]", 4, LONG).await?;
    for a in &links {
        let href = a.attr("href").await?.unwrap();
        assert!(href.contains("unit="), "{href}");
        let path = href.trim_start_matches("api/v1/").to_owned();
        let (s, v) = call(ui, "GET", &path, Value::Null).await?;
        assert_eq!(s, 200, "{href}: {v}");
        assert!(
            v["type"].as_str().unwrap().contains("spreadsheetml"),
            "{href}: {v}"
        );
    }
    ui.click("#forms-applicants-show").await?;
    ui.wait_count("#applicants-sheet tr[data-application]", 1, LONG)
        .await?;
    let sheet = ui.find("#applicants-sheet").await?.text().await?;
    assert!(
        sheet.contains(FARMING) && sheet.contains("补证") && sheet.contains("盖章"),
        "{sheet}"
    );
    assert!(ui.exists("#forms-applicants-print").await?);
    checked(ui, "forms", &mut problems).await?;

    // 年审: the reviewer marks the market's schedule at once.
    ui.logout().await?;
    ui.login("nianshen").await?;
    ui.goto("review").await?;
    ui.click("#schedule-form button[type=submit]").await?;
    choose(ui, "#schedule-unit", MARKET).await?;
    ui.wait_count("#schedule-mark-unit:not([hidden])", 1, LONG)
        .await?;
    ui.wait_count("#schedule tr[data-status=due]", 2, LONG)
        .await?;
    ui.click("#schedule-mark-unit").await?;
    ui.wait_text("#schedule-mark-text", "2 人", LONG).await?;
    checked(ui, "review-mark-confirm", &mut problems).await?;
    ui.click("#schedule-mark-confirm-yes").await?;
    ui.wait_text("#notice", &format!("已为「{MARKET}」记录 2 人"), LONG)
        .await?;
    ui.wait_count("#schedule tr[data-status=done]", 2, LONG)
        .await?;
    assert!(!ui.exists("#schedule tr[data-status=due]").await?);
    let hidden = ui.find("#schedule-mark-unit").await?.attr("hidden").await?;
    assert!(hidden.is_some(), "nothing left to mark, the button goes");
    checked(ui, "review-marked", &mut problems).await?;
    assert!(
        problems.is_empty(),
        "accessibility problems (our checks and axe-core):\n{}",
        problems.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_forms_and_marking_a_units_review() {
    let ui = match Ui::start().await {
        Ok(ui) => ui,
        Err(e) => panic!("cannot start the browser test: {e}"),
    };
    let outcome = walk(&ui).await;
    if outcome.is_err() {
        let _ = ui.screenshot("station-lists-failure").await;
    }
    let log = ui.ecardd.log.clone();
    let _ = ui.close().await;
    if let Err(e) = outcome {
        panic!(
            "{e}\n(screenshot: target/ui-screenshots/station-lists-failure.png; ecardd log: {})",
            log.display()
        );
    }
}
