#![allow(clippy::unwrap_used)]
//! 设置 → 制证打印机 in headless chromium against the real `ecardd demo` printing
//! through the test's own cupsd (issue #16, ecard_test_support::cups): the admin
//! sees the queue CUPS offers, chooses it, pairs the first reader with it (print
//! first) and saves; the API then holds exactly that. A clerk's 「送制证打印机打印卡面」
//! on the record page hands the face to CUPS and a PDF comes out of cups-pdf.

use ecard_test_support::cups::{read_back, CupsServer};
use std::time::Duration;
use ui_tests::{Ecardd, Result, Ui};

const READER: &str = "演示读卡器 1";

/// `fetch` from inside the logged-in page (the browser's own session cookie).
async fn fetch(ui: &Ui, method: &str, path: &str, body: Option<&str>) -> Result<String> {
    let script = r#"
        const [method, path, body, done] = arguments;
        const init = { method, headers: { "x-requested-with": "ecard" } };
        if (body !== null) { init.body = body; init.headers["content-type"] = "application/json"; }
        fetch("/api/v1/" + path, init)
            .then(async (r) => done(r.status + " " + await r.text()))
            .catch((e) => done("0 " + e));
    "#;
    let v = ui
        .client
        .execute_async(
            script,
            vec![
                method.into(),
                path.into(),
                body.map(Into::into).unwrap_or(serde_json::Value::Null),
            ],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

fn ok_json(answer: &str) -> serde_json::Value {
    let (status, body) = answer.split_once(' ').unwrap_or((answer, ""));
    assert_eq!(status, "200", "{answer}");
    serde_json::from_str(body).unwrap()
}

async fn walk(ui: &Ui, cups: &CupsServer) -> Result<()> {
    let queue = cups.queue();
    ui.login("guanli").await?;
    ui.goto("settings").await?;
    ui.wait_text("#printing-box", "1 个打印队列", Duration::from_secs(20))
        .await?;
    ui.find("#printing-queue")
        .await?
        .select_by_value(queue)
        .await?;
    // The first reader row is the first demo reader.
    let row_reader = ui.find("#pair-queue-0").await?.attr("data-reader").await?;
    assert_eq!(row_reader.as_deref(), Some(READER));
    ui.find("#pair-queue-0")
        .await?
        .select_by_value(queue)
        .await?;
    ui.find("#pair-order-0")
        .await?
        .select_by_value("print_first")
        .await?;
    ui.screenshot("printing-settings").await?;
    ui.click("#printing-save").await?;
    ui.wait_text("#notice", "打印设置已保存", Duration::from_secs(20))
        .await?;
    let problems = ui.a11y_problems().await?;
    assert!(problems.is_empty(), "设置 制证打印机: {problems:?}");

    let saved = ok_json(&fetch(ui, "GET", "settings/printing", None).await?);
    assert_eq!(saved["queue"], queue);
    assert_eq!(
        saved["pairings"],
        serde_json::json!([{ "reader": READER, "queue": queue, "order": "print_first",
                             "order_label": "先打印后写芯片" }])
    );
    // After a reload the form shows what was saved.
    ui.goto("settings").await?;
    ui.wait_text("#printing-box", "1 个打印队列", Duration::from_secs(20))
        .await?;
    let order = ui.find("#pair-order-0").await?.prop("value").await?;
    assert_eq!(order.as_deref(), Some("print_first"));
    ui.logout().await?;

    // A clerk writes a card and sends its face to the printer from the record page.
    ui.login("zhizheng").await?;
    let list = ok_json(&fetch(ui, "GET", "certificates?state=approved", None).await?);
    let cert = list[0]["id"].as_i64().expect("an approved certificate");
    let reader = READER
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect::<String>();
    ok_json(
        &fetch(
            ui,
            "POST",
            &format!("demo/readers/{reader}/insert-blank"),
            None,
        )
        .await?,
    );
    ok_json(
        &fetch(
            ui,
            "POST",
            "issue",
            Some(&format!(
                r#"{{"certificate_id":{cert},"reader":"{READER}"}}"#
            )),
        )
        .await?,
    );
    ui.goto(&format!("records?id={cert}")).await?;
    ui.click("#face-print").await?;
    ui.wait_text("#notice", "打印任务", Duration::from_secs(30))
        .await?;
    let files = cups.wait_printed(1, Duration::from_secs(60));
    let (pages, w, h) = read_back::pages_and_size(&files[0]);
    assert_eq!(pages, 2);
    assert!(
        (w - 242.65).abs() < 1.0 && (h - 153.07).abs() < 1.0,
        "{w} x {h}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_pairs_a_reader_with_a_card_printer_and_a_clerk_prints_a_face() {
    let Some(cups) = CupsServer::start() else {
        return;
    };
    let ecardd = Ecardd::start_demo_with_env(&[("ECARDD_CUPS_SERVER", &cups.address())])
        .expect("ecardd demo");
    let ui = match Ui::start_with(ecardd).await {
        Ok(ui) => ui,
        Err(e) => panic!("cannot start the browser test: {e}"),
    };
    let outcome = walk(&ui, &cups).await;
    if outcome.is_err() {
        let _ = ui.screenshot("printing-failure").await;
    }
    let log = ui.ecardd.log.clone();
    let _ = ui.close().await;
    if let Err(e) = outcome {
        panic!("{e}\n(ecardd log: {})", log.display());
    }
}
