//! Each finding kind of every check, from plain facts.

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

fn codes(f: &[Finding]) -> Vec<(&'static str, Level)> {
    f.iter().map(|f| (f.code, f.level)).collect()
}

#[test]
fn every_finding_speaks_both_languages_and_says_what_to_do_unless_ok() {
    let mut all = vec![
        pcscd(true),
        pcscd(false),
        drivers(&[]),
        clock(d("2020-01-01"), None, false),
    ];
    all.extend(readers(&[]));
    all.extend(database(&DatabaseFacts::Missing, "/x"));
    all.extend(keys(
        &KeyFacts {
            initialised: false,
            signer_valid_until: None,
            trust_anchors: 0,
            unlocked: None,
        },
        d("2026-01-01"),
    ));
    for f in all {
        assert!(!f.zh.is_empty() && !f.en.is_empty(), "{f:?}");
        assert_eq!(f.level == Level::Ok, f.fix_zh.is_none(), "{f:?}");
        assert_eq!(f.fix_zh.is_some(), f.fix_en.is_some(), "{f:?}");
    }
}

#[test]
fn pcscd_down_is_a_fault() {
    assert_eq!(
        (pcscd(true).code, pcscd(true).level),
        ("pcscd_ok", Level::Ok)
    );
    assert_eq!(
        (pcscd(false).code, pcscd(false).level),
        ("pcscd_unreachable", Level::Fault)
    );
}

#[test]
fn readers_none_one_and_the_virtual_one() {
    assert_eq!(codes(&readers(&[])), [("no_reader", Level::Warning)]);
    assert_eq!(
        codes(&readers(&["ACS ACR39U 00 00".into()])),
        [("readers_ok", Level::Ok)]
    );
    assert_eq!(
        codes(&readers(&["Virtual PCD 00 00".into()])),
        [
            ("readers_ok", Level::Ok),
            ("virtual_reader", Level::Warning)
        ]
    );
}

#[test]
fn drivers_none_no_ccid_and_ccid() {
    assert_eq!(
        (drivers(&[]).code, drivers(&[]).level),
        ("no_driver", Level::Fault)
    );
    let serial_only = drivers(&["vpcd".into()]);
    assert_eq!(
        (serial_only.code, serial_only.level),
        ("no_ccid_driver", Level::Warning)
    );
    let ccid = drivers(&[CCID_BUNDLE.into(), "vpcd".into()]);
    assert_eq!((ccid.code, ccid.level), ("drivers_ok", Level::Ok));
}

#[test]
fn keys_every_state() {
    let today = d("2026-06-01");
    let k = |until: Option<&str>, anchors, unlocked| KeyFacts {
        initialised: true,
        signer_valid_until: until.map(d),
        trust_anchors: anchors,
        unlocked,
    };
    let none = KeyFacts {
        initialised: false,
        signer_valid_until: None,
        trust_anchors: 0,
        unlocked: None,
    };
    assert_eq!(
        codes(&keys(&none, today)),
        [("keys_not_initialised", Level::Warning)]
    );
    assert_eq!(
        codes(&keys(&k(Some("2030-01-01"), 1, Some(true)), today)),
        [("keys_ok", Level::Ok), ("keys_unlocked", Level::Ok)]
    );
    assert_eq!(
        codes(&keys(&k(Some("2026-05-31"), 1, Some(true)), today)),
        [
            ("signer_expired", Level::Fault),
            ("keys_unlocked", Level::Ok)
        ]
    );
    // The last valid day is still valid; 90 days ahead warns, 91 does not.
    assert_eq!(
        codes(&keys(&k(Some("2026-06-01"), 1, Some(true)), today))[0],
        ("signer_expiring", Level::Warning)
    );
    assert_eq!(
        codes(&keys(&k(Some("2026-08-30"), 1, Some(true)), today))[0],
        ("signer_expiring", Level::Warning)
    );
    assert_eq!(
        codes(&keys(&k(Some("2026-08-31"), 1, Some(true)), today))[0],
        ("keys_ok", Level::Ok)
    );
    assert_eq!(
        codes(&keys(&k(None, 1, Some(true)), today))[0],
        ("signer_missing", Level::Fault)
    );
    assert_eq!(
        codes(&keys(&k(Some("2030-01-01"), 0, Some(false)), today)),
        [
            ("keys_ok", Level::Ok),
            ("no_trust_anchor", Level::Fault),
            ("keys_wrong_passphrase", Level::Fault)
        ]
    );
    assert_eq!(
        codes(&keys(&k(Some("2030-01-01"), 1, None), today))[1],
        ("keys_locked", Level::Warning)
    );
}

#[test]
fn database_every_state() {
    assert_eq!(
        codes(&database(&DatabaseFacts::Missing, "/x")),
        [("database_missing", Level::Warning)]
    );
    assert_eq!(
        codes(&database(
            &DatabaseFacts::Unreadable("file is not a database".into()),
            "/x"
        )),
        [("database_unreadable", Level::Fault)]
    );
    let opened =
        |integrity: &[&str], broken: Option<(i64, String)>, others| DatabaseFacts::Opened {
            integrity: integrity.iter().map(|s| s.to_string()).collect(),
            audit_rows: 3,
            audit_broken: broken,
            readable_by_others: others,
        };
    assert_eq!(
        codes(&database(&opened(&["ok"], None, false), "/x")),
        [("database_ok", Level::Ok), ("audit_ok", Level::Ok)]
    );
    assert_eq!(
        codes(&database(
            &opened(
                &[
                    "*** in database main ***",
                    "Page 3: btreeInitPage() returns error code 11"
                ],
                None,
                false
            ),
            "/x"
        )),
        [("database_corrupt", Level::Fault), ("audit_ok", Level::Ok)]
    );
    assert_eq!(
        codes(&database(
            &opened(&["ok"], Some((2, "row was edited".into())), true),
            "/x"
        )),
        [
            ("database_ok", Level::Ok),
            ("database_mode", Level::Warning),
            ("audit_broken", Level::Fault)
        ]
    );
}

#[test]
fn clock_every_state() {
    let c = |today, newest: Option<&str>, moved| {
        let f = clock(d(today), newest.map(d), moved);
        (f.code, f.level)
    };
    assert_eq!(
        c("2026-06-01", Some("2026-06-01"), false),
        ("clock_ok", Level::Ok)
    );
    assert_eq!(c("2026-06-01", None, false), ("clock_ok", Level::Ok));
    assert_eq!(
        c("2026-06-01", Some("2026-06-02"), false),
        ("clock_behind_records", Level::Fault)
    );
    assert_eq!(
        c("2024-12-31", None, false),
        ("clock_implausible", Level::Fault)
    );
    assert_eq!(
        c("2029-04-01", Some("2026-06-02"), true),
        ("clock_moved", Level::Warning)
    );
}

#[test]
fn registry_every_state() {
    let e = |pinned, probe| RegistryFacts::Enrolled {
        url: "https://r.example:8600".into(),
        pinned,
        probe,
    };
    let c = |r: RegistryFacts| {
        let f = registry(&r);
        (f.code, f.level)
    };
    assert_eq!(
        c(RegistryFacts::NotEnrolled),
        ("registry_not_enrolled", Level::Warning)
    );
    assert_eq!(c(e(false, None)), ("registry_not_pinned", Level::Fault));
    assert_eq!(c(e(true, None)), ("registry_pinned", Level::Ok));
    assert_eq!(
        c(e(true, Some(Ok(ProbeAnswer::SameKey)))),
        ("registry_ok", Level::Ok)
    );
    assert_eq!(
        c(e(true, Some(Ok(ProbeAnswer::OtherKey("ab12".into()))))),
        ("registry_key_changed", Level::Fault)
    );
    assert_eq!(
        c(e(true, Some(Err("connection refused".into())))),
        ("registry_unreachable", Level::Warning)
    );
}

#[test]
fn revocation_list_every_state() {
    let c = |age, max| {
        let f = revocation_list(age, max);
        (f.code, f.level)
    };
    assert_eq!(c(None, 7), ("revocation_list_missing", Level::Warning));
    assert_eq!(c(Some(3), 7), ("revocation_list_ok", Level::Ok));
    assert_eq!(c(Some(4), 7), ("revocation_list_ageing", Level::Warning));
    assert_eq!(c(Some(7), 7), ("revocation_list_ageing", Level::Warning));
    assert_eq!(c(Some(8), 7), ("revocation_list_stale", Level::Fault));
}

#[test]
fn the_worst_finding_sets_the_exit_status() {
    assert_eq!(Report::new(vec![]).exit_status(), 0);
    assert_eq!(Report::new(vec![pcscd(true)]).exit_status(), 0);
    let warn = revocation_list(None, 7);
    assert_eq!(
        Report::new(vec![pcscd(true), warn.clone()]).exit_status(),
        EXIT_WARNING
    );
    let r = Report::new(vec![pcscd(false), warn, pcscd(true)]);
    assert_eq!((r.worst, r.exit_status()), (Level::Fault, EXIT_FAULT));
}

#[test]
fn driver_directories_are_listed_sorted_bundles_and_conf_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drivers_dir = dir.path().join("drivers");
    let conf = dir.path().join("reader.conf.d");
    for p in [
        drivers_dir.join("ifd-ccid.bundle"),
        drivers_dir.join("serial"),
        conf.clone(),
    ] {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(conf.join("vpcd"), "").expect("write");
    std::fs::write(conf.join(".hidden"), "").expect("write");
    assert_eq!(
        probe::installed_drivers(&drivers_dir, &conf),
        ["ifd-ccid.bundle", "vpcd"]
    );
    assert!(
        probe::installed_drivers(&dir.path().join("none"), &dir.path().join("none")).is_empty()
    );
}
