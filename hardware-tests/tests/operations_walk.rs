//! docs/OPERATIONS.md §0 walks a new station from nothing to a written card. This test
//! runs exactly the shell blocks of that walk (```sh walk …), in order, with bash, on
//! temporary directories instead of /var/lib/ecard, /etc/ecard and the removable media,
//! through the real pcscd + vpcd with a blank `ecard-sim` card standing for the card
//! the vendor delivered. What a person does with their hands (put a card in the reader)
//! is named in the block's info string (```sh walk insert-blank-card) and done by the
//! test before the block runs. Run under the hardware lock (scripts/test.sh does).
//!
//! It runs twice, one after the other: once as a station enrolled with the province's registry over TLS
//! (the pin given out of band), once as a single office that runs the registry and the
//! station on one machine (plain HTTP on loopback).

mod common;

use hardware_tests::{PcscHarness, SimSpec};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One ```sh walk block: its commands and the hand action before it, if any.
#[derive(Debug)]
struct Step {
    action: Option<String>,
    script: String,
}

fn walk_steps(doc: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```sh walk") else {
            continue;
        };
        let action = Some(info.trim().to_string()).filter(|a| !a.is_empty());
        let mut script = String::new();
        for body in lines.by_ref() {
            if body.starts_with("```") {
                break;
            }
            script.push_str(body);
            script.push('\n');
        }
        steps.push(Step { action, script });
    }
    steps
}

fn operations_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/OPERATIONS.md");
    std::fs::read_to_string(path).expect("docs/OPERATIONS.md")
}

/// The directory of the built binaries (ecardd, ecard-registry, ecard-sim).
fn bin_dir() -> PathBuf {
    common::ecardd_binary()
        .parent()
        .expect("binary directory")
        .to_path_buf()
}

/// Runs the walk; `single_office` picks the variant the doc's blocks branch on.
fn run_walk(single_office: bool) {
    let steps = walk_steps(&operations_md());
    assert!(steps.len() >= 5, "the walk has its blocks: {steps:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let mut harness = PcscHarness::start().expect("pcscd and vpcd");
    let reader = harness.readers().expect("readers")[0].clone();
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // One bash runs the whole walk, block by block, as an operator's terminal would
    // (variables set in one block are there in the next). After each block it echoes
    // a marker; the test waits for it, then does the next hand action.
    let stderr_path = root.join("walk.stderr");
    let mut bash = Command::new("bash")
        .current_dir(root)
        .env("PATH", &path)
        .env(ecard_clock::TODAY_ENV, common::clock().env_value())
        .env("ECARD_DATA", root.join("station"))
        .env("ECARD_ETC", root.join("etc"))
        .env("MEDIA", root.join("media"))
        .env("REGISTRY_DATA", root.join("registry"))
        .env("READER", &reader)
        .env("SINGLE_OFFICE", if single_office { "1" } else { "" })
        .env_remove("ECARDD_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("bash");
    let mut stdin = bash.stdin.take().expect("stdin");
    let stdout = bash.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(l) => {
                    if tx.send(Some(l)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(None);
    });
    writeln!(stdin, "set -euo pipefail").expect("write to bash");
    let mut cards = Vec::new();
    let mut transcript = String::new();
    for (i, step) in steps.iter().enumerate() {
        if let Some(action) = &step.action {
            match action.as_str() {
                "fill-roster" => fill_roster(&root.join("media")),
                "insert-blank-card" => {
                    let master =
                        std::fs::read_to_string(root.join("media/vendor/bureau-master.hex"))
                            .expect("the walk wrote the bureau master key for the vendor");
                    let spec = SimSpec::new(root.join(format!("card-{i}.json")))
                        .serial(0x4543_5741_4C4B_0001u64.to_be_bytes())
                        .master_key(hex::decode(master.trim()).expect("master key hex"));
                    cards.push(harness.start_card(0, spec).expect("card inserted"));
                }
                other => panic!("unknown hand action {other:?} in docs/OPERATIONS.md"),
            }
        }
        let marker = format!("__walk_block_{i}_done__");
        write!(stdin, "{}\necho {marker}\n", step.script).expect("write to bash");
        stdin.flush().expect("flush");
        loop {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(Some(line)) if line == marker => break,
                Ok(Some(line)) => {
                    transcript.push_str(&line);
                    transcript.push('\n');
                }
                Ok(None) | Err(_) => {
                    let _ = bash.kill();
                    stop_background(root);
                    panic!(
                        "walk block {i} failed:\n{}\n--- output so far\n{transcript}\n--- stderr\n{}",
                        step.script,
                        std::fs::read_to_string(&stderr_path).unwrap_or_default()
                    );
                }
            }
        }
    }
    drop(stdin);
    let _ = bash.wait();
    // What an operator would have seen (shown with --nocapture).
    eprintln!("--- walk transcript ---\n{transcript}");
    stop_background(root);
    drop(cards);
}

/// The unit's clerk fills in the official roster template with one new applicant and
/// puts the photo in the archive (`<公民身份号码>.jpg`), as the walk's import expects.
fn fill_roster(media: &Path) {
    use ecard_domain::citizen_id::{first17, with_check_digit, CitizenId};
    use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
    use ecard_domain::roster::{ApplicationKind, RosterRow};
    let birth = chrono::NaiveDate::from_ymd_opt(1985, 3, 14).expect("date");
    let citizen_id = CitizenId::parse(
        &with_check_digit(&first17("511621", birth, 35)).expect("id"),
        common::today(),
    )
    .expect("id");
    let id_number = citizen_id.to_string();
    let row = RosterRow {
        kind: ApplicationKind::New,
        excel_row: 0,
        county: "岳池县".into(),
        name: "王五".into(),
        unit: "岳池县市场监督管理局".into(),
        certificate_number: None,
        valid_until: None,
        gender: citizen_id.gender(),
        birth_date: citizen_id.birth_date(),
        citizen_id,
        ethnicity: Ethnicity::parse("汉族").expect("ethnicity"),
        political_status: PoliticalStatus::ALL[0],
        valid_from: None,
        education: "大学本科".into(),
        major: "法学".into(),
        rank_code: "020201".into(),
        law_major: true,
        legal_qualification: false,
        posts: vec![PostCode::ByAuthority],
        exam_category: "综合法律知识考试".into(),
        law_exam_on: None,
        law_exam_score: None,
        staffing: None,
        org_nature: None,
        position: None,
        photo: None,
    };
    let xlsx = ecard_domain::forms::roster_xlsx(&[row]).expect("roster");
    std::fs::write(media.join("roster.xlsx"), xlsx).expect("write roster");
    let portrait = ecard_domain::photo::synthetic::portrait_jpeg(480, 560, 12, 80, 11);
    let file = std::fs::File::create(media.join("photos.zip")).expect("zip file");
    let mut zip = zip::ZipWriter::new(file);
    zip.start_file(
        format!("{id_number}.jpg"),
        zip::write::SimpleFileOptions::default(),
    )
    .expect("zip entry");
    zip.write_all(&portrait).expect("zip write");
    zip.finish().expect("zip finish");
}

/// The walk starts the registry in the background and writes its pid; stop it.
fn stop_background(root: &Path) {
    if let Ok(pid) = std::fs::read_to_string(root.join("registry/registry.pid")) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
}

/// Both variants in one test, one after the other: they share the registry's port
/// and the reader.
#[test]
fn the_operations_walk_runs_as_written_with_a_registry_and_in_a_single_office() {
    run_walk(false);
    run_walk(true);
}
