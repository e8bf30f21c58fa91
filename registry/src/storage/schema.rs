//! Versioned migrations, one list per back end. SQLite: rusqlite_migration,
//! tracked in `PRAGMA user_version`. PostgreSQL ([`postgres`]): its own list,
//! tracked in `schema_migrations`, whose first step is SQLite's V1–V7 as one
//! schema (no PostgreSQL registry existed before them). Append new migrations to
//! both lists, the same change in each dialect; never edit one that has shipped.

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
    ])
}

const V1: &str = r#"
CREATE TABLE stations (
    id               TEXT PRIMARY KEY,
    public_key       TEXT NOT NULL,          -- uncompressed P-256 point, hex
    region           TEXT,                   -- region code prefix it serves (issuance orders)
    last_applied_seq INTEGER NOT NULL DEFAULT 0,
    disabled         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
);

-- Nonces seen within the clock window, kept in the database so that a restart
-- cannot be used to replay a request.
CREATE TABLE nonces (
    station_id TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    seen_at    INTEGER NOT NULL,             -- Unix seconds (request timestamp)
    PRIMARY KEY (station_id, nonce)
);
CREATE INDEX nonces_seen_at ON nonces(seen_at);

CREATE TABLE events (
    station_id  TEXT NOT NULL REFERENCES stations(id),
    seq         INTEGER NOT NULL,
    event_id    TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (station_id, seq)
);

CREATE TABLE units (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    region         TEXT NOT NULL,            -- numbering region code (川X, 川X01, ...)
    department     TEXT NOT NULL,            -- numbering department code
    province_level INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);

CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('unit','county','city','province')),
    unit_id      INTEGER REFERENCES units(id),
    region       TEXT,                       -- county/city: the region it reviews
    org_name     TEXT NOT NULL,              -- e.g. 广安市司法局 (the issuer on approval)
    token_digest TEXT NOT NULL UNIQUE,       -- SHA-256 of the bearer token, hex
    created_at   TEXT NOT NULL,
    CHECK (role <> 'unit' OR unit_id IS NOT NULL),
    CHECK (role NOT IN ('county','city') OR region IS NOT NULL)
);

CREATE TABLE officers (
    id          INTEGER PRIMARY KEY,
    id_number   TEXT NOT NULL UNIQUE,
    holder_json TEXT,                        -- card_profile::records::Holder
    photo_jpeg  BLOB,
    updated_at  TEXT NOT NULL
);

CREATE TABLE applications (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    form_json     TEXT NOT NULL,             -- ApplicationForm without the photo
    photo_jpeg    BLOB,
    state         TEXT NOT NULL CHECK (state IN ('submitted','county_approved','approved','rejected','returned')),
    reason        TEXT,                      -- last rejection / send-back reason
    sent_back     INTEGER NOT NULL DEFAULT 0,
    round         INTEGER NOT NULL DEFAULT 0, -- approvals so far (order ids)
    number        TEXT,                      -- allocated at first approval, kept after
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications(id),
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,            -- submit, approve, reject, edit, resubmit, send_back
    level          TEXT,
    reason         TEXT,
    at             TEXT NOT NULL
);

CREATE TABLE certificates (
    id             INTEGER PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    id_number      TEXT,
    application_id INTEGER REFERENCES applications(id),
    data_json      TEXT,                     -- card_profile::records::Certificate when known
    state          TEXT NOT NULL CHECK (state IN ('approved','issued','suspended','cancelled','void','replaced')),
    origin         TEXT NOT NULL,            -- 'registry' or the station id
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE cards (
    serial      TEXT PRIMARY KEY,            -- 16 hex digits, upper-case
    number      TEXT NOT NULL,
    chip_key    TEXT NOT NULL,
    sod         TEXT NOT NULL,
    issued_on   TEXT NOT NULL,
    station_id  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('live','suspended','void','revoked'))
);
CREATE INDEX cards_number ON cards(number);

CREATE TABLE reviews (
    number      TEXT NOT NULL,
    year        INTEGER NOT NULL,
    review_date TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('passed','failed')),
    remark      TEXT,
    station_id  TEXT NOT NULL,
    PRIMARY KEY (number, year)
);

CREATE TABLE status_changes (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('suspend','lift','cancel','replace','reissue')),
    reason       TEXT NOT NULL,
    detail_json  TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    new_number   TEXT,
    origin       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- One row per list number: a change that adds entries makes a new number.
CREATE TABLE revocation_lists (
    number    INTEGER PRIMARY KEY,
    issued_at TEXT NOT NULL
);

CREATE TABLE revocations (
    kind     TEXT NOT NULL CHECK (kind IN ('serial','number')),
    value    TEXT NOT NULL,
    reason   TEXT NOT NULL,
    since    TEXT NOT NULL,
    added_in INTEGER,                        -- NULL only inside the adding transaction
    PRIMARY KEY (kind, value)
);
CREATE INDEX revocations_added_in ON revocations(added_in);

CREATE TABLE feed (
    cursor     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    region     TEXT,                         -- issuance orders: the unit's region; NULL: everyone
    origin     TEXT,                         -- the station that caused it (not fed back to it)
    body_json  TEXT NOT NULL,                -- sync_protocol::feed::FeedBody
    created_at TEXT NOT NULL
);

CREATE TABLE trust_list (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    list_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE number_serials (
    prefix      TEXT PRIMARY KEY,
    last_serial INTEGER NOT NULL
);
"#;

/// Applications imported at a station (`application_submitted` events): every one is
/// kept here; `application_id` links the workflow application made from it, NULL
/// while it waits for the admin (unit unknown to the registry, or a row the registry
/// could not turn into a form: `problem` says why).
const V2: &str = r#"
CREATE TABLE station_applications (
    id             INTEGER PRIMARY KEY,
    station_id     TEXT NOT NULL REFERENCES stations(id),
    event_id       TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,            -- new / replacement
    unit_name      TEXT NOT NULL,            -- as named in the row
    row_json       TEXT NOT NULL,            -- ecard_domain::roster::RosterRow
    defaults_json  TEXT,                     -- ApplicationDefaults when the station sent them
    photo_base64   TEXT,
    application_id INTEGER REFERENCES applications(id),
    problem        TEXT,                     -- why it is not attached (Chinese)
    created_at     TEXT NOT NULL,
    attached_at    TEXT
);
CREATE INDEX station_applications_pending ON station_applications(unit_name) WHERE application_id IS NULL;
"#;

/// Events a station sent that it may not do (docs/SYNC.md, refusal codes): kept
/// for the operator, never applied.
const V3: &str = r#"
CREATE TABLE refused_events (
    station_id TEXT NOT NULL REFERENCES stations(id),
    seq        INTEGER NOT NULL,
    event_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    code       TEXT NOT NULL,
    message    TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (station_id, seq)
);
"#;

/// The reviewers' pages (crate::web): a page password per account (argon2id PHC;
/// the bearer token stays for programs) and page sessions, kept as the token's
/// SHA-256 only.
const V4: &str = r#"
CREATE TABLE account_passwords (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    phc        TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE web_sessions (
    digest     TEXT PRIMARY KEY,                 -- SHA-256 of the cookie's token, hex
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL                     -- moves with use (idle limit)
);
CREATE INDEX web_sessions_account ON web_sessions(account_id);
"#;

/// Proof materials (证明材料) a unit files with an application (issue 20): the
/// bytes, the type found in them (never the client's word), the cleaned name.
/// Bounded in size and count by `workflow::materials`.
const V5: &str = r#"
CREATE TABLE proof_materials (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications(id),
    file_name      TEXT NOT NULL,
    media_type     TEXT NOT NULL CHECK (media_type IN ('application/pdf','image/jpeg','image/png')),
    bytes          BLOB NOT NULL,
    uploaded_by    TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX proof_materials_application ON proof_materials(application_id);
"#;

/// The pages' administrator (`admin`), an account role of its own beside the
/// reviewing bureaus. SQLite cannot change a CHECK in place: the table is made
/// anew with its rows; the accounts' passwords and sessions refer to it by name
/// and find the same ids again (their foreign keys are checked at commit).
const V6: &str = r#"
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE accounts_v5 AS SELECT * FROM accounts;
DROP TABLE accounts;
CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('unit','county','city','province','admin')),
    unit_id      INTEGER REFERENCES units(id),
    region       TEXT,
    org_name     TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    CHECK (role <> 'unit' OR unit_id IS NOT NULL),
    CHECK (role NOT IN ('county','city') OR region IS NOT NULL)
);
INSERT INTO accounts (id, username, role, unit_id, region, org_name, token_digest, created_at)
    SELECT id, username, role, unit_id, region, org_name, token_digest, created_at FROM accounts_v5;
DROP TABLE accounts_v5;
"#;

/// Every bureau's document-signer certificate the registry has seen (issue #16):
/// the one inside the EF.SOD of the first card a station reported written with it.
/// The public seal check finds a seal's signer here by its 4-byte COSE kid; the feed
/// spreads each new one to every station (`document_signer` items).
const V7: &str = r#"
CREATE TABLE document_signers (
    key_id      TEXT PRIMARY KEY,                -- card_profile::pki::key_id of its key, hex
    kid         TEXT NOT NULL,                   -- the first 4 bytes of key_id: a seal's COSE kid
    certificate TEXT NOT NULL,                   -- 7F21 … as on the card, hex
    subject     TEXT NOT NULL,
    station_id  TEXT NOT NULL,                   -- the station that reported it first
    seen_at     TEXT NOT NULL
);
CREATE INDEX document_signers_kid ON document_signers(kid);
"#;

/// A reviewer's list reads the applications of its own units (issue #15: at
/// national scale a scan of every application took seconds). PostgreSQL's V1 has
/// the same index.
const V8: &str = r#"
CREATE INDEX applications_unit ON applications(unit_id);
"#;

/// The PostgreSQL schema (issue #15): the tables, columns, keys and checks of the
/// SQLite one, in PostgreSQL's types: BIGINT for INTEGER (the storage layer reads
/// and writes 64-bit integers only), BYTEA for BLOB, identity columns for SQLite's
/// automatic row ids. Text compares byte-wise (`COLLATE "C"` on the database,
/// checked at start), as SQLite's BINARY collation does, so both order the same.
pub mod postgres {
    use super::super::db::{params, Conn};
    use super::super::{Result, StorageError};

    pub const MIGRATIONS: &[&str] = &[V1];

    /// A database whose text ordering is not byte-wise would sort cursors, keys
    /// and names differently from SQLite; refused with the command that makes a
    /// suitable one.
    pub fn check_collation(conn: &Conn) -> Result<()> {
        let collate: String = conn.query_row(
            "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
            params![],
            |r| r.get(0),
        )?;
        if collate == "C" || collate == "POSIX" {
            return Ok(());
        }
        Err(StorageError::Invalid(format!(
            "数据库的排序规则为 {collate}，须为 C（createdb --locale=C --encoding=UTF8 --template=template0）"
        )))
    }

    const V1: &str = r#"
CREATE TABLE stations (
    id               TEXT PRIMARY KEY,
    public_key       TEXT NOT NULL,
    region           TEXT,
    last_applied_seq BIGINT NOT NULL DEFAULT 0,
    disabled         BIGINT NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
);
CREATE TABLE nonces (
    station_id TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    seen_at    BIGINT NOT NULL,
    PRIMARY KEY (station_id, nonce)
);
CREATE INDEX nonces_seen_at ON nonces(seen_at);
CREATE TABLE events (
    station_id  TEXT NOT NULL REFERENCES stations(id),
    seq         BIGINT NOT NULL,
    event_id    TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (station_id, seq)
);
CREATE TABLE units (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    region         TEXT NOT NULL,
    department     TEXT NOT NULL,
    province_level BIGINT NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);
CREATE TABLE accounts (
    id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('unit','county','city','province','admin')),
    unit_id      BIGINT REFERENCES units(id),
    region       TEXT,
    org_name     TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    CHECK (role <> 'unit' OR unit_id IS NOT NULL),
    CHECK (role NOT IN ('county','city') OR region IS NOT NULL)
);
CREATE TABLE officers (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    id_number   TEXT NOT NULL UNIQUE,
    holder_json TEXT,
    photo_jpeg  BYTEA,
    updated_at  TEXT NOT NULL
);
CREATE TABLE applications (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    unit_id       BIGINT NOT NULL REFERENCES units(id),
    form_json     TEXT NOT NULL,
    photo_jpeg    BYTEA,
    state         TEXT NOT NULL CHECK (state IN ('submitted','county_approved','approved','rejected','returned')),
    reason        TEXT,
    sent_back     BIGINT NOT NULL DEFAULT 0,
    round         BIGINT NOT NULL DEFAULT 0,
    number        TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX applications_unit ON applications(unit_id);
CREATE TABLE decisions (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications(id),
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    level          TEXT,
    reason         TEXT,
    at             TEXT NOT NULL
);
CREATE INDEX decisions_application ON decisions(application_id);
CREATE TABLE certificates (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    id_number      TEXT,
    application_id BIGINT REFERENCES applications(id),
    data_json      TEXT,
    state          TEXT NOT NULL CHECK (state IN ('approved','issued','suspended','cancelled','void','replaced')),
    origin         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE TABLE cards (
    serial      TEXT PRIMARY KEY,
    number      TEXT NOT NULL,
    chip_key    TEXT NOT NULL,
    sod         TEXT NOT NULL,
    issued_on   TEXT NOT NULL,
    station_id  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('live','suspended','void','revoked')),
    -- SQLite's rowid order (the order cards were recorded) for the signer scan.
    recorded    BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX cards_number ON cards(number);
CREATE TABLE reviews (
    number      TEXT NOT NULL,
    year        BIGINT NOT NULL,
    review_date TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('passed','failed')),
    remark      TEXT,
    station_id  TEXT NOT NULL,
    PRIMARY KEY (number, year)
);
CREATE TABLE status_changes (
    id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number       TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('suspend','lift','cancel','replace','reissue')),
    reason       TEXT NOT NULL,
    detail_json  TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    new_number   TEXT,
    origin       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE TABLE revocation_lists (
    number    BIGINT PRIMARY KEY,
    issued_at TEXT NOT NULL
);
CREATE TABLE revocations (
    kind     TEXT NOT NULL CHECK (kind IN ('serial','number')),
    value    TEXT NOT NULL,
    reason   TEXT NOT NULL,
    since    TEXT NOT NULL,
    added_in BIGINT,
    PRIMARY KEY (kind, value)
);
CREATE INDEX revocations_added_in ON revocations(added_in);
CREATE TABLE feed (
    cursor     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT NOT NULL,
    region     TEXT,
    origin     TEXT,
    body_json  TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE trust_list (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    list_json  TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE number_serials (
    prefix      TEXT PRIMARY KEY,
    last_serial BIGINT NOT NULL
);
CREATE TABLE station_applications (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    station_id     TEXT NOT NULL REFERENCES stations(id),
    event_id       TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    unit_name      TEXT NOT NULL,
    row_json       TEXT NOT NULL,
    defaults_json  TEXT,
    photo_base64   TEXT,
    application_id BIGINT REFERENCES applications(id),
    problem        TEXT,
    created_at     TEXT NOT NULL,
    attached_at    TEXT
);
CREATE INDEX station_applications_pending ON station_applications(unit_name) WHERE application_id IS NULL;
CREATE TABLE refused_events (
    station_id TEXT NOT NULL REFERENCES stations(id),
    seq        BIGINT NOT NULL,
    event_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    code       TEXT NOT NULL,
    message    TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (station_id, seq)
);
CREATE TABLE account_passwords (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
    phc        TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE web_sessions (
    digest     TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions(account_id);
CREATE TABLE proof_materials (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications(id),
    file_name      TEXT NOT NULL,
    media_type     TEXT NOT NULL CHECK (media_type IN ('application/pdf','image/jpeg','image/png')),
    bytes          BYTEA NOT NULL,
    uploaded_by    TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX proof_materials_application ON proof_materials(application_id);
CREATE TABLE document_signers (
    key_id      TEXT PRIMARY KEY,
    kid         TEXT NOT NULL,
    certificate TEXT NOT NULL,
    subject     TEXT NOT NULL,
    station_id  TEXT NOT NULL,
    seen_at     TEXT NOT NULL
);
CREATE INDEX document_signers_kid ON document_signers(kid);
"#;
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }

    /// V6 makes the accounts table anew: a registry's accounts keep their ids,
    /// passwords and sessions (foreign keys on, as `Storage` runs), and `admin`
    /// becomes a role.
    #[test]
    fn the_admin_role_migration_keeps_accounts_passwords_and_sessions() {
        let mut c = rusqlite::Connection::open_in_memory().expect("db");
        c.pragma_update(None, "foreign_keys", "ON").expect("fk");
        super::migrations().to_version(&mut c, 5).expect("to v5");
        c.execute_batch(
            "INSERT INTO units (id, name, region, department, created_at) VALUES (1, 'u', '川X04', '02', 't');
             INSERT INTO accounts (id, username, role, unit_id, org_name, token_digest, created_at)
                 VALUES (7, 'yc-edu', 'unit', 1, 'o', 'd7', 't');
             INSERT INTO account_passwords VALUES (7, '$argon2id$x', 't');
             INSERT INTO web_sessions VALUES ('s', 7, 't', 't');",
        )
        .expect("v5 rows");
        assert!(c
            .execute(
                "INSERT INTO accounts (username, role, org_name, token_digest, created_at) VALUES ('a', 'admin', 'o', 'da', 't')",
                [],
            )
            .is_err());
        super::migrations().to_latest(&mut c).expect("to latest");
        let kept: (String, String) = c
            .query_row(
                "SELECT a.username, p.phc FROM accounts a JOIN account_passwords p ON p.account_id = a.id JOIN web_sessions s ON s.account_id = a.id WHERE a.id = 7",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("kept");
        assert_eq!(kept, ("yc-edu".into(), "$argon2id$x".into()));
        c.execute(
            "INSERT INTO accounts (username, role, org_name, token_digest, created_at) VALUES ('a', 'admin', 'o', 'da', 't')",
            [],
        )
        .expect("admin role");
        // The constraints are back in force on the new table.
        assert!(c
            .execute("INSERT INTO account_passwords VALUES (99, 'x', 't')", [])
            .is_err());
        assert!(c
            .execute(
                "INSERT INTO accounts (username, role, org_name, token_digest, created_at) VALUES ('b', 'unit', 'o', 'db', 't')",
                [],
            )
            .is_err());
    }
}
