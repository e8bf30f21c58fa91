//! Every bureau's document signer, learnt from the cards stations report (issue #16):
//! a card's EF.SOD carries the certificate of the signer that wrote it, and the
//! same station signs its card faces' seals with that signer. The registry keeps
//! each new certificate, spreads it to every station in the feed, and finds a
//! seal's signer here for the public check (`crate::api::public`).
//!
//! Nothing here decides trust: a certificate is kept when its SOD's signature
//! verifies under it, and every checker verifies its chain to a province root and
//! the revoked signers of the root-signed trust list before it believes a seal.

use super::db::{params, OptionalExtension};
use super::{feed, Result, Storage, Tx};
use card_profile::pki::{key_id, SignerCertificate, TrustList};
use card_profile::sod::SecurityObject;
use ecard_sync_protocol::feed::{DocumentSignerNotice, FeedBody};
use ecard_sync_protocol::trust::SignedTrustList;

/// Records the signer of the card whose EF.SOD (hex) `sod_hex` a station reported,
/// when it is new, and puts it in the feed for the other stations. An SOD that does
/// not parse or whose signature fails under its own certificate teaches nothing
/// (the card's event is not refused for it: that is the card verifier's business).
pub(super) fn learn_from_sod(tx: &Tx<'_>, station: &str, sod_hex: &str) -> Result<()> {
    let Some(cert) = signer_of(sod_hex) else {
        return Ok(());
    };
    learn(tx, station, &cert)
}

fn signer_of(sod_hex: &str) -> Option<SignerCertificate> {
    let bytes = hex::decode(sod_hex).ok()?;
    let sod = SecurityObject::parse(&bytes).ok()?;
    sod.signed.signature_valid().then_some(sod.signed.signer)
}

fn learn(tx: &Tx<'_>, station: &str, cert: &SignerCertificate) -> Result<()> {
    let id = hex::encode(key_id(&cert.public_key));
    let inserted = tx
        .conn()
        .prepare_cached(
            "INSERT INTO document_signers (key_id, kid, certificate, subject, station_id, seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key_id) DO NOTHING",
        )?
        .execute(params![
            id,
            &id[..8],
            hex::encode(&cert.raw),
            cert.subject,
            station,
            tx.now()
        ])?;
    if inserted == 1 {
        let body = FeedBody::DocumentSigner(DocumentSignerNotice {
            certificate: hex::encode(&cert.raw),
        });
        feed::push(tx, &body, None, Some(station))?;
    }
    Ok(())
}

fn certificates(rows: Vec<String>) -> Vec<SignerCertificate> {
    rows.iter()
        .filter_map(|h| hex::decode(h).ok())
        .filter_map(|raw| SignerCertificate::from_tlv(&raw).ok())
        .collect()
}

impl Storage {
    /// The signers known under a seal's 4-byte kid (usually one; a collision of
    /// the first four bytes gives more, and the signature picks).
    pub fn signers_with_kid(&self, kid: &[u8; 4]) -> Result<Vec<SignerCertificate>> {
        self.read(|c| {
            let rows = c
                .prepare_cached("SELECT certificate FROM document_signers WHERE kid = ?1")?
                .query_map(params![hex::encode(kid)], |r| r.get::<_, String>(0))?
                .collect::<super::db::DbResult<Vec<_>>>()?;
            Ok(certificates(rows))
        })
    }

    /// Every signer known, oldest first.
    pub fn document_signers(&self) -> Result<Vec<SignerCertificate>> {
        self.read(|c| {
            let rows = c
                .prepare_cached(
                    "SELECT certificate FROM document_signers ORDER BY seen_at, key_id",
                )?
                .query_map(params![], |r| r.get::<_, String>(0))?
                .collect::<super::db::DbResult<Vec<_>>>()?;
            Ok(certificates(rows))
        })
    }

    /// The trust list the registry carries (the province's, verified at upload
    /// against the list before it), or an empty one before any was published.
    pub fn held_trust_list(&self) -> Result<TrustList> {
        self.read(|c| {
            let json: Option<String> = c
                .query_row(
                    "SELECT list_json FROM trust_list WHERE id = 1",
                    params![],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(json
                .and_then(|j| serde_json::from_str::<SignedTrustList>(&j).ok())
                .and_then(|s| s.peek().ok())
                .map(|l| l.trust_list)
                .unwrap_or_default())
        })
    }

    /// Cards reported before the registry kept signers (schema V7) teach theirs
    /// once: run at start while the table is empty.
    pub(super) fn learn_signers_of_earlier_cards(&self) -> Result<()> {
        let pending: Vec<(String, String)> = self.read(|c| {
            let known: i64 =
                c.query_row("SELECT COUNT(*) FROM document_signers", params![], |r| {
                    r.get(0)
                })?;
            if known > 0 {
                return Ok(Vec::new());
            }
            // One card per station and signer is enough; the SODs differ, so all
            // live cards are read — once, at the first start after the migration.
            // In the order the cards were recorded: SQLite's rowid, PostgreSQL's
            // `recorded` identity.
            let sql = if c.is_postgres() {
                "SELECT station_id, sod FROM cards WHERE sod <> '' ORDER BY recorded"
            } else {
                "SELECT station_id, sod FROM cards WHERE sod <> '' ORDER BY rowid"
            };
            let rows = c
                .prepare(sql)?
                .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<super::db::DbResult<Vec<_>>>()?;
            Ok(rows)
        })?;
        if pending.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            for (station, sod) in &pending {
                learn_from_sod(tx, station, sod)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use card_profile::pki::{DocumentSigner, RootKey, SigningKey};
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn signer(root: &RootKey) -> DocumentSigner {
        let key = SigningKey::generate().expect("key");
        let cert = root
            .issue_signer(
                "甲市司法局",
                &key.public_key(),
                d(2020, 1, 1),
                d(2036, 1, 1),
            )
            .expect("cert");
        DocumentSigner::new(key, cert).expect("signer")
    }

    fn sod(serial: u8, signer: &DocumentSigner) -> String {
        let chip = SigningKey::generate().expect("chip").public_key();
        hex::encode(
            SecurityObject::build(&[serial; 8], &chip, d(2026, 11, 23), &[], signer).expect("sod"),
        )
    }

    /// A registry that had cards before it kept signers learns theirs at its next
    /// start, once each, and feeds them; an SOD that does not parse, or whose
    /// signature fails under its own certificate, teaches nothing.
    #[test]
    fn signers_of_cards_reported_before_the_table_existed_are_learnt_once() {
        let storage = super::super::test_storage(ecard_clock::Clock::starting_on(d(2026, 11, 23)));
        let root = RootKey {
            name: "根".into(),
            key: SigningKey::generate().expect("root"),
            valid_from: d(2020, 1, 1),
            valid_until: d(2040, 1, 1),
        };
        let (a, b) = (signer(&root), signer(&root));
        let mut forged = hex::decode(sod(9, &a)).expect("hex");
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let rows = [
            ("station-a", sod(1, &a)),
            ("station-a", sod(2, &a)),
            ("station-b", sod(3, &b)),
            ("station-b", "30".repeat(20)),
            ("station-b", hex::encode(forged)),
            ("station-b", String::new()),
        ];
        storage
            .write(|tx| {
                for (i, (station, sod)) in rows.iter().enumerate() {
                    tx.conn().execute(
                        "INSERT INTO cards (serial, number, chip_key, sod, issued_on, station_id, state)
                         VALUES (?1, 'n', '04', ?2, '2026-11-23', ?3, 'live')",
                        params![format!("{i:016X}"), sod, station],
                    )?;
                }
                Ok(())
            })
            .expect("cards");
        storage.learn_signers_of_earlier_cards().expect("learn");
        let mut known: Vec<_> = storage
            .document_signers()
            .expect("signers")
            .into_iter()
            .map(|c| c.raw)
            .collect();
        known.sort();
        let mut expected = vec![a.certificate.raw.clone(), b.certificate.raw.clone()];
        expected.sort();
        assert_eq!(known, expected);
        let kid: [u8; 4] = key_id(&b.certificate.public_key)[..4]
            .try_into()
            .expect("4");
        assert_eq!(
            storage.signers_with_kid(&kid).expect("kid"),
            vec![b.certificate.clone()]
        );
        let fed: i64 = storage
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM feed WHERE kind = 'document_signer'",
                    params![],
                    |r| r.get(0),
                )?)
            })
            .expect("feed");
        assert_eq!(fed, 2);
        // Once: a second start learns nothing more and feeds nothing more.
        storage.learn_signers_of_earlier_cards().expect("again");
        let fed_again: i64 = storage
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM feed", params![], |r| r.get(0))?))
            .expect("feed");
        assert_eq!(fed_again, 2);
    }
}
