//! `ecardd demo`: the station with no hardware. A database in a temporary
//! directory, simulated readers with a stack of blank cards, demo keys and sample
//! officers; then one run of the real operations (issue → verify → annual review)
//! through the same code the daemon uses, printed as it happens.
//!
//! The HTTP API and web UI are not built yet (issues #3 and #5); until they are,
//! the demo is this walk-through on the terminal.

use crate::ops::{ReviewRequest, Station, StationConfig, StationKeys};
use crate::readers::sim::SimReaders;
use crate::readers::Readers;
use crate::store::{self, CertificateState, Store};
use card_profile::demo;
use card_profile::records::ReviewResult;
use card_profile::verdict::Outcome;
use std::sync::Arc;

const READERS: [&str; 2] = ["演示读卡器 1", "演示读卡器 2"];

pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("ecard-demo.db");
    let store = Arc::new(Store::open(&db)?);
    let today = chrono::Local::now().date_naive();
    let pki = demo::pki(today)?;
    let sim = Arc::new(SimReaders::new(
        &READERS,
        20,
        pki.master.clone(),
        0xEC00_0000_0000_0001,
    ));
    let readers = Readers::new(sim.clone());
    let officers = demo::officers(today);
    let trust = pki.trust.clone();
    let station = Station::new(
        Arc::clone(&store),
        readers,
        StationKeys {
            master: pki.master,
            signer: pki.signer,
        },
        trust,
        StationConfig {
            bureau_name: "演示市司法局".into(),
            ..StationConfig::default()
        },
    );
    println!("ecardd 演示模式（无硬件）");
    println!("  数据库: {}", db.display());
    println!(
        "  读卡器: {}（模拟，{} 张空白卡）",
        READERS.join("、"),
        sim.blanks_left()
    );

    let mut ids = Vec::new();
    for o in &officers {
        let id = store.write("demo", |tx| {
            let officer = store::upsert_officer(tx, &o.holder, Some(&o.photo_jpeg))?;
            let cert = store::insert_certificate(
                tx,
                officer,
                &o.certificate,
                CertificateState::Approved,
                None,
            )?;
            tx.audit(
                "certificate.approved",
                &o.certificate.number,
                serde_json::json!({ "demo": true }),
            )?;
            Ok(cert)
        })?;
        ids.push(id);
    }
    println!("\n已批准待制证：{} 人", ids.len());

    for (i, id) in ids.iter().enumerate() {
        let reader = READERS[i % READERS.len()];
        sim.insert_blank(reader)?;
        match station.issue("demo", *id, reader).await {
            Ok(out) => println!(
                "  制证 {} → 卡号 {}，{} 条指令，核验：{}",
                out.number,
                out.serial,
                out.apdus,
                out.verdict.standing.label_zh()
            ),
            Err(e) => println!("  制证失败：{}", e.message_zh()),
        }
        sim.eject(reader)?;
    }

    let first = sim.tray().into_iter().next().ok_or("no card written")?;
    sim.insert_from_tray(READERS[0], &first.serial)?;
    let out = station.verify(READERS[0]).await?;
    println!(
        "\n现场核验卡 {}：{}",
        first.serial,
        out.verdict.standing.label_zh()
    );
    if let Some(h) = &out.verdict.holder {
        println!("  持证人：{}（{}）", h.name, h.id_number);
    }
    for c in &out.verdict.checks {
        let mark = match &c.outcome {
            Outcome::Passed => "通过".to_string(),
            Outcome::Warning { findings } => format!("提示 {findings:?}"),
            Outcome::Failed { findings } => format!("未通过 {findings:?}"),
            Outcome::Pending => "待定".to_string(),
        };
        println!("  - {:?}: {mark}", c.check);
    }

    let review = station
        .review(
            "demo",
            &ReviewRequest {
                certificate_id: ids[0],
                year: None,
                result: ReviewResult::Passed,
                remark: Some("演示年审".into()),
                reader: Some(READERS[0].into()),
            },
        )
        .await?;
    println!(
        "\n年审已写入卡片和记录：{} 年度，{}",
        review.year, review.date
    );
    let report = store.verify_audit_chain()?;
    println!(
        "审计日志：{} 条，哈希链{}",
        report.rows,
        if report.first_broken.is_none() {
            "完整"
        } else {
            "断裂"
        }
    );
    println!("\n（Web 界面与 HTTP API 尚未完成：见 issue #3、#5）");
    Ok(())
}
