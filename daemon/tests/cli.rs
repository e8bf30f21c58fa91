//! The ecardd binary as a script sees it: exit statuses and a closed stdout.

use card_profile::verdict::Standing;
use ecardd::labels;
use ecardd::ops::verify_exit_status;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ecardd");

/// Runs ecardd with its stdout a pipe whose reading end is already closed, as in
/// `ecardd labels | head -0`: every write meets EPIPE.
fn run_into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Command::new(BIN)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run ecardd")
}

#[test]
fn a_closed_stdout_ends_the_output_quietly_without_a_panic() {
    for args in [&["labels"][..], &["labels", "--json"][..]] {
        let out = run_into_closed_pipe(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: not quiet: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn labels_prints_the_same_vocabulary_the_api_serves() {
    let out = Command::new(BIN)
        .args(["labels", "--json"])
        .output()
        .expect("run ecardd");
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(printed, labels::table());
    assert_eq!(printed["standing"]["review_failed"], "年审不合格");
}

#[test]
fn verify_exit_status_follows_the_standing_and_clears_the_failure_statuses() {
    let all = [
        Standing::Valid,
        Standing::Invalid,
        Standing::Revoked,
        Standing::Suspended,
        Standing::Expired,
        Standing::NotYetValid,
        Standing::ReviewOverdue,
        Standing::ReviewFailed,
        Standing::Unconfirmed,
    ];
    assert_eq!(all.len(), labels::STANDINGS.len());
    assert_eq!(verify_exit_status(Standing::Valid), 0);
    let mut seen = std::collections::BTreeSet::new();
    for s in all.into_iter().filter(|s| *s != Standing::Valid) {
        let code = verify_exit_status(s);
        // 1–6 are the CLI's failures (docs/OPERATIONS.md); a standing never says them.
        assert!(code >= 10, "{s:?} → {code}");
        assert!(seen.insert(code), "{s:?} shares exit status {code}");
    }
    assert_eq!(verify_exit_status(Standing::Invalid), 10);
    assert_eq!(verify_exit_status(Standing::Revoked), 11);
    assert_eq!(verify_exit_status(Standing::Suspended), 12);
    assert_eq!(verify_exit_status(Standing::ReviewFailed), 16);
}
