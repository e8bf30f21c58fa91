//! `ecardd demo`: the station with no hardware. A database in a temporary
//! directory, simulated readers with a stack of blank cards, demo keys, sample
//! officers approved and waiting for their cards, and demo operator logins; then
//! the same HTTP API and web UI `ecardd serve` offers. `--walkthrough` instead runs
//! issue → verify → annual review once on the terminal.

use crate::api::AppState;
use crate::auth::{self, Role};
use crate::ops::{ReviewRequest, Station, StationConfig, StationKeys, REVOCATION_LIST_DATE};
use crate::readers::sim::SimReaders;
use crate::readers::Readers;
use crate::store::{self, Store};
use card_profile::demo;
use card_profile::records::ReviewResult;
use card_profile::suite::Suite;
use ecard_clock::Clock;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub const READERS: [&str; 2] = ["演示读卡器 1", "演示读卡器 2"];

/// The demo logins: (username, display name, role). The password is "demo-" + username.
pub const LOGINS: [(&str, &str, Role); 4] = [
    ("guanli", "演示管理员", Role::Admin),
    ("zhizheng", "演示制证员", Role::Issuer),
    ("nianshen", "演示年审员", Role::Reviewer),
    ("jiancha", "演示检查员", Role::Inspector),
];

pub fn demo_password(username: &str) -> String {
    format!("demo-{username}")
}

/// A demo station and what keeps it alive.
pub struct DemoStation {
    pub station: Station,
    pub sim: Arc<SimReaders>,
    pub db: PathBuf,
    /// The certificates approved and waiting for a card.
    pub approved: Vec<i64>,
    _dir: tempfile::TempDir,
}

/// Builds the demo station on `clock` (its keys, officers and dates start on the
/// clock's today).
pub fn build(clock: Clock) -> Result<DemoStation, Box<dyn std::error::Error + Send + Sync>> {
    build_in(clock, Suite::P256)
}

/// The demo station in `suite` (`ecardd demo --suite sm`: SM2/SM3/SM4 keys, and blank
/// cards pre-personalised with SM4 management keys; docs/SUITES.md).
pub fn build_in(
    clock: Clock,
    suite: Suite,
) -> Result<DemoStation, Box<dyn std::error::Error + Send + Sync>> {
    let today = clock.today();
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("ecard-demo.db");
    let store = Arc::new(Store::open(&db, clock)?);
    let pki = demo::pki_in(suite, today)?;
    let sim = Arc::new(SimReaders::new(
        &READERS,
        50,
        pki.master.clone(),
        0xEC00_0000_0000_0001,
    ));
    let station = Station::new(
        Arc::clone(&store),
        Readers::new(sim.clone()),
        StationKeys {
            master: pki.master,
            signer: pki.signer,
        },
        pki.trust,
        StationConfig {
            bureau_name: "演示市司法局".into(),
            ..StationConfig::default()
        },
    );
    let mut approved = Vec::new();
    for o in demo::officers(today) {
        let id = store.write("demo", |tx| store::record_approved(tx, &o))?;
        approved.push(id);
    }
    for (username, display, role) in LOGINS {
        let hash = auth::hash_password(&demo_password(username))?;
        store.write("demo", |tx| {
            store::create_operator(tx, username, display, role, &hash)
        })?;
    }
    // The demo's revocation list is its own, current as of today; its root is the
    // one trust anchor, kept in the store like a real station's.
    store.write("demo", |tx| {
        for anchor in &station.trust_list().anchors {
            crate::keyring::add_anchor(tx, anchor)?;
        }
        tx.set_setting(REVOCATION_LIST_DATE, &today.to_string())?;
        tx.audit(
            "revocations.dated",
            "local",
            serde_json::json!({ "date": today }),
        )?;
        Ok(())
    })?;
    Ok(DemoStation {
        station,
        sim,
        db,
        approved,
        _dir: dir,
    })
}

/// Serves the demo station's API and UI on `listen` until Ctrl-C or SIGTERM.
pub async fn serve(
    listen: SocketAddr,
    clock: Clock,
    suite: Suite,
    cups_server: Option<String>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut demo = build_in(clock, suite)?;
    // The demo prints through a real CUPS when given one (a card printer to try, or
    // the browser test's own cupsd); its readers stay simulated.
    demo.station.config.cups_server = cups_server;
    let state = AppState::with_demo(demo.station.clone(), demo.sim.clone())?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    println!("ecardd 演示模式（无硬件，数据在临时目录，退出即删除）");
    println!("  数据库: {}", demo.db.display());
    println!("  密码算法: {}", suite_zh(suite));
    println!(
        "  读卡器: {}（模拟，{} 张空白卡）",
        READERS.join("、"),
        demo.sim.blanks_left()
    );
    println!("  已批准待制证: {} 人", demo.approved.len());
    println!("  演示账户（用户名 / 密码）:");
    for (username, _, role) in LOGINS {
        println!(
            "    {:<8} {:<8} {}",
            username,
            demo_password(username),
            crate::labels::role_zh(role)
        );
    }
    println!("  在浏览器中打开: http://{addr}/");
    println!("ecardd listening: http://{addr}/");
    crate::server::flush_stdout();
    crate::api::serve(listener, state, &[], crate::server::shutdown_signal()).await?;
    Ok(())
}

/// The terminal walk-through: issue → verify → annual review through the real operations.
/// `face_pdf`: where to write the printable face (front and back, with the signed
/// QR) of the first card written (`ecardd demo --walkthrough --face-pdf PATH`).
pub async fn walkthrough(
    clock: Clock,
    suite: Suite,
    face_pdf: Option<&std::path::Path>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let demo = build_in(clock, suite)?;
    let (station, sim, store, ids) = (
        &demo.station,
        &demo.sim,
        &demo.station.store,
        &demo.approved,
    );
    println!("ecardd 演示模式（无硬件，终端演示）");
    println!("  数据库: {}", demo.db.display());
    println!("  密码算法: {}", suite_zh(suite));
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
                crate::labels::standing_zh(out.verdict.standing)
            ),
            Err(e) => println!("  制证失败：{}", e.message_zh()),
        }
        sim.eject(reader)?;
    }

    let first = sim.tray().into_iter().next().ok_or("no card written")?;
    sim.insert_from_tray(READERS[0], &first.serial)?;
    let out = station.verify(READERS[0]).await?;
    println!("\n现场核验卡 {}：", first.serial);
    println!("{}", crate::labels::verdict_text(&out.verdict));

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
    match face_pdf {
        Some(path) => match station.card_face_and_seal(ids[0]) {
            Ok((pdf, seal)) => {
                std::fs::write(path, pdf)?;
                let check = station.check_seal(&seal);
                println!("\n卡面（正反两面，可打印）已写入：{}", path.display());
                println!("  背面二维码内容：{seal}");
                println!(
                    "  背面二维码核验：{}（扫码核验页：ecardd demo 启动后的 /check）",
                    check.verdict_label
                );
            }
            Err(e) => println!("\n卡面未生成：{}", e.message_zh()),
        },
        None => println!("\n打印卡面：加 --face-pdf 文件路径 将第一张卡的卡面写成 PDF"),
    }
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
    Ok(())
}

/// The suite as the demo names it to people.
fn suite_zh(suite: Suite) -> &'static str {
    match suite {
        Suite::P256 => "ECDSA P-256 / SHA-256 / AES",
        Suite::Sm => "国密 SM2 / SM3 / SM4",
    }
}
