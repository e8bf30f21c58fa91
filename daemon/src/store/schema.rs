//! Versioned migrations (rusqlite_migration, tracked in `PRAGMA user_version`).
//! Append new migrations; never edit one that has shipped.

use rusqlite_migration::{Migrations, M};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up(V6),
        M::up(V7),
        M::up(V8),
        M::up(V9),
        M::up(V10),
        M::up(V11),
        M::up(V12),
        M::up(V13),
    ])
}

const V1: &str = r#"
CREATE TABLE operators (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('issuer','reviewer','inspector','admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_digest  TEXT PRIMARY KEY,
    operator_id   INTEGER NOT NULL REFERENCES operators(id),
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);

CREATE TABLE officers (
    id            INTEGER PRIMARY KEY,
    id_number     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    gender        TEXT NOT NULL CHECK (gender IN ('male','female')),
    ethnicity     TEXT NOT NULL,
    birth_date    TEXT NOT NULL,
    photo_jpeg    BLOB,
    created_at    TEXT NOT NULL
);

-- A certificate is approved (by the registry or locally), then issued on a card.
CREATE TABLE certificates (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    officer_id    INTEGER NOT NULL REFERENCES officers(id),
    data_json     TEXT NOT NULL,            -- card_profile::records::Certificate
    state         TEXT NOT NULL CHECK (state IN ('approved','issued','suspended','cancelled','void','replaced')),
    replaces_id   INTEGER REFERENCES certificates(id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE cards (
    id             INTEGER PRIMARY KEY,
    serial         TEXT NOT NULL UNIQUE,    -- 16 hex digits
    certificate_id INTEGER NOT NULL REFERENCES certificates(id),
    chip_key       TEXT NOT NULL,
    sod            TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('live','suspended','cancelled','void','replaced')),
    written_at     TEXT NOT NULL,
    terminated     INTEGER NOT NULL DEFAULT 0
);
-- The same certificate is never on two live cards.
CREATE UNIQUE INDEX cards_one_live_per_certificate
    ON cards(certificate_id) WHERE state IN ('live','suspended');

CREATE TABLE batches (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY,
    certificate_id INTEGER NOT NULL REFERENCES certificates(id),
    batch_id       INTEGER REFERENCES batches(id),
    state          TEXT NOT NULL CHECK (state IN ('queued','writing','written','verified','synced','interrupted','failed','cancelled')),
    reader         TEXT,
    card_serial    TEXT,
    error          TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
-- At most one open job per certificate.
CREATE UNIQUE INDEX jobs_one_open_per_certificate
    ON jobs(certificate_id) WHERE state IN ('queued','writing','interrupted');

CREATE TABLE reviews (
    id             INTEGER PRIMARY KEY,
    certificate_id INTEGER NOT NULL REFERENCES certificates(id),
    year           INTEGER NOT NULL,
    review_date    TEXT NOT NULL,
    result         TEXT NOT NULL CHECK (result IN ('passed','failed')),
    reviewer       TEXT NOT NULL,
    remark         TEXT,
    card_serial    TEXT,                    -- set when written to the card
    created_at     TEXT NOT NULL,
    UNIQUE (certificate_id, year)
);

CREATE TABLE status_changes (
    id             INTEGER PRIMARY KEY,
    certificate_id INTEGER NOT NULL REFERENCES certificates(id),
    kind           TEXT NOT NULL CHECK (kind IN ('suspend','lift','cancel','replace','reissue')),
    reason         TEXT NOT NULL,
    detail_json    TEXT NOT NULL,           -- destination, how/when declared void, ...
    effective_on   TEXT NOT NULL,
    card_serial    TEXT,                    -- set when written to the card
    created_at     TEXT NOT NULL
);

CREATE TABLE revocations (
    id         INTEGER PRIMARY KEY,
    serial     TEXT,
    number     TEXT,
    reason     TEXT NOT NULL,
    since      TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('local','registry')),
    CHECK (serial IS NOT NULL OR number IS NOT NULL)
);
CREATE UNIQUE INDEX revocations_serial ON revocations(serial) WHERE serial IS NOT NULL;
CREATE UNIQUE INDEX revocations_number ON revocations(number) WHERE number IS NOT NULL;

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE trust_anchors (
    key_id     TEXT PRIMARY KEY,
    anchor_json TEXT NOT NULL
);

CREATE TABLE sealed_keys (
    name        TEXT PRIMARY KEY CHECK (name IN ('master','signer','root')),
    sealed_json TEXT NOT NULL,
    public_json TEXT,                       -- signer certificate (hex) or root anchor
    created_at  TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at    TEXT
);

CREATE TABLE number_serials (
    prefix     TEXT PRIMARY KEY,
    last_serial INTEGER NOT NULL
);
"#;

/// V2: roster imports become applications sent to the registry for approval
/// (county first review, city decision); approved ones come back as certificates.
const V2: &str = r#"
CREATE TABLE applications (
    id          INTEGER PRIMARY KEY,
    officer_id  INTEGER NOT NULL REFERENCES officers(id),
    kind        TEXT NOT NULL CHECK (kind IN ('new','replacement')),
    row_json    TEXT NOT NULL,              -- ecard_domain::roster::RosterRow
    state       TEXT NOT NULL CHECK (state IN ('submitted','approved','rejected')),
    event_id    TEXT NOT NULL,              -- the outbox event that carries it
    created_at  TEXT NOT NULL
);
"#;

/// V3: the station's link to the registry (docs/SYNC.md): who it is, its sealed
/// request-signing key, the pinned registry key, the feed cursor and the revocation
/// list it holds. One row.
const V3: &str = r#"
CREATE TABLE sync_state (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    registry_url          TEXT NOT NULL,
    station_id            TEXT NOT NULL,
    station_key_sealed    TEXT NOT NULL,
    registry_key          TEXT NOT NULL,
    feed_cursor           INTEGER NOT NULL DEFAULT 0,
    revocation_number     INTEGER,
    revocation_issued_at  TEXT,
    last_attempt          TEXT,
    last_success          TEXT,
    last_error            TEXT
);
"#;

/// V4: suspensions in force by certificate number, whether or not this station holds
/// the certificate (a suspension decided elsewhere arrives through the feed). Field
/// checks read it beside the revocation list: a card suspended while it was not at
/// hand still says active itself. Filled from the suspended certificates already here.
/// `list_generation` counts every change to either table (triggers), so the daemon
/// can keep both in memory and rebuild them only when they changed.
const V4: &str = r#"
CREATE TABLE suspensions (
    number     TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    since      TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('local','registry'))
);

INSERT OR IGNORE INTO suspensions (number, reason, since, source)
SELECT c.number, s.reason, s.effective_on, 'local'
FROM certificates c
JOIN status_changes s ON s.id = (
    SELECT MAX(id) FROM status_changes WHERE certificate_id = c.id AND kind = 'suspend'
)
WHERE c.state = 'suspended';

-- Status changes that arrive through the feed are recorded too (their card can be
-- written here later); `origin` tells them from this station's own decisions, which
-- alone go into this station's filing forms.
ALTER TABLE status_changes ADD COLUMN origin TEXT NOT NULL DEFAULT 'local';

CREATE TABLE list_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO list_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER revocations_added AFTER INSERT ON revocations
BEGIN UPDATE list_generation SET generation = generation + 1; END;
CREATE TRIGGER revocations_changed AFTER UPDATE ON revocations
BEGIN UPDATE list_generation SET generation = generation + 1; END;
CREATE TRIGGER revocations_removed AFTER DELETE ON revocations
BEGIN UPDATE list_generation SET generation = generation + 1; END;
CREATE TRIGGER suspensions_added AFTER INSERT ON suspensions
BEGIN UPDATE list_generation SET generation = generation + 1; END;
CREATE TRIGGER suspensions_changed AFTER UPDATE ON suspensions
BEGIN UPDATE list_generation SET generation = generation + 1; END;
CREATE TRIGGER suspensions_removed AFTER DELETE ON suspensions
BEGIN UPDATE list_generation SET generation = generation + 1; END;
"#;

/// V5: the station's own notes are stored as codes and put into words at the edge
/// (crate::labels::reason_zh): the texts earlier versions wrote are turned into their
/// codes. A job error written as a whole Chinese message by earlier versions stays
/// as it is (it is shown as it is).
const V5: &str = r#"
UPDATE jobs SET error = 'process_restarted' WHERE error = '进程重启时写卡未完成';
UPDATE jobs SET error = 'verification_failed.' || CASE substr(error, 9)
        WHEN '有效' THEN 'valid' WHEN '无效' THEN 'invalid' WHEN '已注销' THEN 'revoked'
        WHEN '已暂停' THEN 'suspended' WHEN '已过期' THEN 'expired'
        WHEN '尚未生效' THEN 'not_yet_valid' WHEN '年审逾期' THEN 'review_overdue' END
    WHERE error LIKE '写卡后核验结果：%'
      AND substr(error, 9) IN ('有效','无效','已注销','已暂停','已过期','尚未生效','年审逾期');
UPDATE revocations SET reason = 'card_voided.verification_failed'
    WHERE source = 'local' AND reason = '写卡后核验未通过，卡片作废';
UPDATE revocations SET reason = 'card_voided.replaced_by_another_card'
    WHERE source = 'local' AND reason = '制证中断后改用新卡，原卡作废';
"#;

/// V6: the highest EF.STATUS sequence number seen or written per card serial
/// (docs/PROFILE.md §3, EF.STATUS): a card showing a lower one had an old record put
/// back and fails verification. Part of what the verifier knows about serials, so a
/// change moves the list generation like the revocation list does.
const V6: &str = r#"
CREATE TABLE status_sequences (
    serial     TEXT PRIMARY KEY,
    highest    INTEGER NOT NULL CHECK (highest >= 0),
    updated_at TEXT NOT NULL
);
CREATE TRIGGER status_sequences_added AFTER INSERT ON status_sequences
BEGIN UPDATE list_generation SET generation = generation + 1; END;
CREATE TRIGGER status_sequences_changed AFTER UPDATE ON status_sequences
BEGIN UPDATE list_generation SET generation = generation + 1; END;
"#;

/// V7: a roster import does not write over a certified officer's record; the change
/// waits here as a correction (old and new values) for another operator to approve
/// or reject (store::corrections). `new_photo` is NULL when the photo is unchanged.
const V7: &str = r#"
CREATE TABLE officer_corrections (
    id            INTEGER PRIMARY KEY,
    officer_id    INTEGER NOT NULL REFERENCES officers(id),
    old_json      TEXT NOT NULL,            -- card_profile::records::Holder as recorded
    new_json      TEXT NOT NULL,            -- the Holder the import brought
    old_photo     BLOB,
    new_photo     BLOB,
    state         TEXT NOT NULL CHECK (state IN ('pending','approved','rejected')),
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT,
    reason        TEXT
);
CREATE INDEX officer_corrections_state ON officer_corrections (state);
"#;

/// V8: 换证 and 补证 become applications to the registry (the station no longer
/// numbers anything; `number_serials` is left unused): an application may be a
/// 补证 (`reissue`), names the certificate it follows, and may come back 退回 with
/// the bureau's reason (the registry's `application_decision` feed items).
/// SQLite cannot widen a CHECK, so the table is rebuilt with its rows.
const V8: &str = r#"
CREATE TABLE applications_v8 (
    id           INTEGER PRIMARY KEY,
    officer_id   INTEGER NOT NULL REFERENCES officers(id),
    kind         TEXT NOT NULL CHECK (kind IN ('new','replacement','reissue')),
    row_json     TEXT NOT NULL,              -- roster row, or the succession_submitted payload
    state        TEXT NOT NULL CHECK (state IN ('submitted','approved','rejected','returned')),
    event_id     TEXT NOT NULL,              -- the outbox event that carries it
    created_at   TEXT NOT NULL,
    follows_id   INTEGER REFERENCES certificates(id), -- 换证/补证: the certificate it follows
    reason       TEXT                                  -- the bureau's reason when 退回
);
INSERT INTO applications_v8 (id, officer_id, kind, row_json, state, event_id, created_at)
    SELECT id, officer_id, kind, row_json, state, event_id, created_at FROM applications;
DROP TABLE applications;
ALTER TABLE applications_v8 RENAME TO applications;
"#;

/// V9: the 3-working-day rule for 注销/换发/补发 (「在 3 个工作日内向市司法局办理注销、
/// 换发、补发手续」): a change this station records keeps its deadline (`due_on`,
/// computed once by `ecard_domain::deadlines::add_working_days` with the province's
/// calendar) and the outbox event that carries it to the registry (`event_id`: the
/// application's for 换证/补证, the change's for 注销); it is done when that event
/// was delivered. Older rows and changes from the feed have neither.
const V9: &str = r#"
ALTER TABLE status_changes ADD COLUMN due_on TEXT;
ALTER TABLE status_changes ADD COLUMN event_id TEXT;
"#;

/// V10: the unit's follow-ups to an application sent (docs/SYNC.md): a send-back it
/// asked for and the bureau has not answered, the outbox event of its last
/// follow-up, and the registry's words when it refused one.
const V10: &str = r#"
ALTER TABLE applications ADD COLUMN send_back_request TEXT;
ALTER TABLE applications ADD COLUMN follow_up_event TEXT;
ALTER TABLE applications ADD COLUMN note TEXT;
"#;

/// V11: printing (issue #16, docs/CARD-FACE.md). Which card printer's encoder each
/// reader is, and in which order that printer prints and encodes; a batch that
/// prints as it encodes; per job, the CUPS job of the face printed for its card and
/// whether that card was spoiled (废卡: its serial voided, never handed out).
const V11: &str = r#"
CREATE TABLE printer_pairings (
    reader      TEXT PRIMARY KEY,
    queue       TEXT NOT NULL,
    print_order TEXT NOT NULL CHECK (print_order IN ('encode_first','print_first')),
    updated_at  TEXT NOT NULL
);
ALTER TABLE batches ADD COLUMN print_encode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN face_print TEXT;
ALTER TABLE jobs ADD COLUMN spoiled INTEGER NOT NULL DEFAULT 0;
"#;

/// V12: annual reviews recorded elsewhere (another station, or the registry) that
/// reached this station through the feed (`review_recorded` items), by certificate
/// number: the station need not hold the certificate for the field check to count
/// them (DOMAIN-RULES "annual review"). Kept apart from `reviews`, which holds what
/// this station recorded and may write to a card.
const V12: &str = r#"
CREATE TABLE registry_reviews (
    number      TEXT NOT NULL,
    year        INTEGER NOT NULL,
    review_date TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('passed','failed')),
    remark      TEXT,
    origin      TEXT NOT NULL,              -- the station id that recorded it, or `registry`
    received_at TEXT NOT NULL,
    PRIMARY KEY (number, year)
);

-- The state and reason an application had before the unit resubmitted it, with the
-- outbox event of that resubmission: when the registry refuses that event, the
-- application goes back to them (退回 again, with the registry's words as its note).
ALTER TABLE applications ADD COLUMN resubmitted_from TEXT;
"#;

/// Which kind of card each written card is (#13, docs/PROFILE-PIV.md): every card
/// written before PIV cards existed is a native one.
const V13: &str = r#"
ALTER TABLE cards ADD COLUMN family TEXT NOT NULL DEFAULT 'native'
    CHECK (family IN ('native','piv'));
"#;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rusqlite::Connection;

    /// A station that suspended certificates before V4 keeps them suspended for
    /// field checks after the upgrade: the latest suspension of each suspended
    /// certificate is carried into `suspensions`, a lifted one is not.
    /// Cards written before V13 are native cards; the column takes only the two
    /// families.
    #[test]
    fn v13_makes_earlier_cards_native() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 12).unwrap();
        conn.execute_batch(
            "INSERT INTO officers (id, id_number, name, gender, ethnicity, birth_date, created_at)
             VALUES (1, '11010519491231002X', '张三', 'female', '汉族', '1949-12-31', 't');
             INSERT INTO certificates (id, number, officer_id, data_json, state, created_at, updated_at)
             VALUES (1, '川X010001', 1, '{}', 'issued', 't', 't');
             INSERT INTO cards (serial, certificate_id, chip_key, sod, state, written_at)
             VALUES ('00000000000000A1', 1, '04', '', 'live', 't');",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let family: String = conn
            .query_row("SELECT family FROM cards", [], |r| r.get(0))
            .unwrap();
        assert_eq!(family, "native");
        assert!(conn.execute("UPDATE cards SET family = 'piv'", []).is_ok());
        assert!(conn
            .execute("UPDATE cards SET family = 'smart'", [])
            .is_err());
    }

    #[test]
    fn v4_carries_the_suspensions_already_recorded() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO officers (id, id_number, name, gender, ethnicity, birth_date, created_at)
             VALUES (1, '11010519491231002X', '张三', 'female', '汉族', '1949-12-31', 't');
             INSERT INTO certificates (id, number, officer_id, data_json, state, created_at, updated_at)
             VALUES (1, '川X010001', 1, '{}', 'suspended', 't', 't'),
                    (2, '川X010002', 1, '{}', 'issued', 't', 't');
             INSERT INTO status_changes (certificate_id, kind, reason, detail_json, effective_on, created_at)
             VALUES (1, 'suspend', '旧的暂停', '{}', '2026-01-05', 't'),
                    (1, 'lift', '恢复', '{}', '2026-02-01', 't'),
                    (1, 'suspend', '立案调查', '{}', '2026-03-02', 't'),
                    (2, 'suspend', '已恢复的暂停', '{}', '2026-01-05', 't'),
                    (2, 'lift', '恢复', '{}', '2026-02-01', 't');",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let rows: Vec<(String, String, String)> = conn
            .prepare("SELECT number, reason, since FROM suspensions")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![("川X010001".into(), "立案调查".into(), "2026-03-02".into())]
        );
        // The triggers count changes from now on.
        let before: i64 = conn
            .query_row("SELECT generation FROM list_generation", [], |r| r.get(0))
            .unwrap();
        conn.execute("DELETE FROM suspensions", []).unwrap();
        let after: i64 = conn
            .query_row("SELECT generation FROM list_generation", [], |r| r.get(0))
            .unwrap();
        assert_eq!(after, before + 1);
    }
    /// Rows written as words by earlier versions read as codes after V5; text a
    /// person typed is left alone.
    #[test]
    fn v5_turns_the_stations_own_notes_into_codes() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO officers (id, id_number, name, gender, ethnicity, birth_date, created_at)
             VALUES (1, '11010519491231002X', '张三', 'female', '汉族', '1949-12-31', 't');
             INSERT INTO certificates (id, number, officer_id, data_json, state, created_at, updated_at)
             VALUES (1, '川X010001', 1, '{}', 'approved', 't', 't');
             INSERT INTO jobs (id, certificate_id, state, error, created_at, updated_at)
             VALUES (1, 1, 'interrupted', '进程重启时写卡未完成', 't', 't'),
                    (2, 1, 'failed', '写卡后核验结果：无效', 't', 't'),
                    (3, 1, 'failed', '读卡器「A」中没有卡片，请插卡', 't', 't');
             INSERT INTO revocations (serial, number, reason, since, source)
             VALUES ('01', NULL, '写卡后核验未通过，卡片作废', '2026-01-01', 'local'),
                    ('02', NULL, '制证中断后改用新卡，原卡作废', '2026-01-01', 'local'),
                    (NULL, '川X010009', '调离执法岗位', '2026-01-01', 'registry');",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let col = |sql: &str| -> Vec<String> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(
            col("SELECT error FROM jobs ORDER BY id"),
            [
                "process_restarted",
                "verification_failed.invalid",
                "读卡器「A」中没有卡片，请插卡"
            ]
        );
        assert_eq!(
            col("SELECT reason FROM revocations ORDER BY id"),
            [
                "card_voided.verification_failed",
                "card_voided.replaced_by_another_card",
                "调离执法岗位"
            ]
        );
    }
}
