//! The card's JSON state file: round trip, saving after changes, tampering, and
//! clear errors for a bad file.

// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use card_profile::profile::{FileId, LifeCycle};
use card_sim::{Persistent, SimCard, SimOptions, StateError};
use common::*;
use serde_json::Value;

fn personalized_with_file(dir: &tempfile::TempDir) -> (SimCard, std::path::PathBuf) {
    let path = dir.path().join("card.json");
    let mut card = card(SimOptions::default());
    card.attach_state_file(&path).unwrap();
    personalize(&mut card);
    assert_eq!(tx(&mut card, "00E20030 03 640101"), "9000");
    (card, path)
}

#[test]
fn state_round_trips_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (card, path) = personalized_with_file(&dir);
    let loaded = SimCard::load(&path, SimOptions::default()).unwrap();
    assert_eq!(loaded.persistent(), card.persistent());
    assert_eq!(
        Persistent::from_json(&card.persistent().to_json()).unwrap(),
        *card.persistent()
    );
    // Nothing but the state file is left in the directory (the temp file was renamed).
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn layout_is_plain_json_with_hex_files() {
    let dir = tempfile::tempdir().unwrap();
    let (_card, path) = personalized_with_file(&dir);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["serial"], "0102030405060708");
    assert_eq!(json["life_cycle"], "Personalizing");
    assert_eq!(json["tries_left"], 10);
    assert_eq!(json["files"]["Holder"], "6202AA02");
    assert_eq!(json["files"]["Ver"].as_str().unwrap().len(), 36);
    assert_eq!(json["records"][0], "640101");
    assert!(json["chip_key_pkcs8"].is_string());
}

#[test]
fn every_change_is_saved_and_reads_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let (mut card, path) = personalized_with_file(&dir);
    let before = std::fs::read_to_string(&path).unwrap();
    tx(&mut card, "00B08200 00");
    tx(&mut card, "0084000010");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert_eq!(tx(&mut card, "00440000"), "9000");
    let after = SimCard::load(&path, SimOptions::default()).unwrap();
    assert_eq!(after.life_cycle(), LifeCycle::Activated);
    // A wrong cryptogram's try counter is persistent too.
    tx(&mut card, "0084000010");
    tx(&mut card, &format!("00820001 10 {}", "00".repeat(16)));
    let after = SimCard::load(&path, SimOptions::default()).unwrap();
    assert_eq!(after.tries_left(), 9);
}

#[test]
fn a_tampered_file_still_loads_with_the_tampered_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (_card, path) = personalized_with_file(&dir);
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["files"]["Holder"] = Value::from("6202AA03");
    std::fs::write(&path, json.to_string()).unwrap();
    let card = SimCard::load(&path, SimOptions::default()).unwrap();
    assert_eq!(card.file(FileId::Holder), [0x62, 0x02, 0xAA, 0x03]);
}

fn load_edited(edit: impl FnOnce(&mut Value)) -> StateError {
    let dir = tempfile::tempdir().unwrap();
    let (_card, path) = personalized_with_file(&dir);
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, json.to_string()).unwrap();
    SimCard::load(&path, SimOptions::default()).unwrap_err()
}

#[test]
fn a_bad_file_is_a_clear_error() {
    assert!(matches!(
        load_edited(|j| j["files"]["Holder"] = Value::from("6Z")),
        StateError::Hex(f) if f == "files.Holder"
    ));
    assert!(matches!(
        load_edited(|j| j["serial"] = Value::from("0102")),
        StateError::Length {
            expected: 8,
            actual: 2,
            ..
        }
    ));
    assert!(matches!(
        load_edited(|j| j["files"]["Holder"] = Value::from("00".repeat(513))),
        StateError::OverCapacity {
            file: FileId::Holder,
            len: 513,
            capacity: 512
        }
    ));
    assert!(matches!(
        load_edited(|j| j["files"]["Reviews"] = Value::from("00")),
        StateError::RecordFileInFiles
    ));
    assert!(matches!(
        load_edited(|j| j["records"][0] = Value::from("")),
        StateError::BadRecord { index: 0, len: 0 }
    ));
    assert!(matches!(
        load_edited(|j| j["chip_key_pkcs8"] = Value::from("3000")),
        StateError::BadChipKey
    ));
    assert!(matches!(
        load_edited(|j| j["life_cycle"] = Value::from("Lost")),
        StateError::Json { .. }
    ));
    assert!(matches!(
        load_edited(|j| j["extra"] = Value::from(1)),
        StateError::Json { .. }
    ));
    assert!(matches!(
        load_edited(|j| j["format"] = Value::from(2)),
        StateError::Format(2)
    ));
    assert!(matches!(
        load_edited(|j| j["tries_left"] = Value::from(11)),
        StateError::BadTries(11)
    ));
    let missing = SimCard::load(
        std::path::Path::new("/nonexistent/card.json"),
        SimOptions::default(),
    );
    assert!(matches!(missing, Err(StateError::Read { .. })));
}

#[test]
fn a_save_that_fails_rolls_the_command_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut card, path) = personalized_with_file(&dir);
    // Replace the directory so the next save cannot write there.
    drop(dir);
    assert!(!path.exists());
    assert_eq!(tx(&mut card, "00440000"), "6581");
    assert_eq!(card.life_cycle(), LifeCycle::Personalizing);
}
