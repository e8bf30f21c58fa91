//! Every bureau's document signer, learnt from the cards stations report (issue #16):
//! a card's EF.SOD carries the certificate of the signer that wrote it, and the
//! same station signs its card faces' seals with that signer. The registry keeps
//! each new certificate, spreads it to every station in the feed, and finds a
//! seal's signer here for the public check (`crate::api::public`).
//!
//! Nothing here decides trust: a certificate is kept when its SOD's signature
//! verifies under it, and every checker verifies its chain to a province root and
//! the revoked signers of the root-signed trust list before it believes a seal.

use super::{feed, Result, Storage, Tx};
use card_profile::pki::{key_id, SignerCertificate, TrustList};
use card_profile::sod::SecurityObject;
use ecard_sync_protocol::feed::{DocumentSignerNotice, FeedBody};
use ecard_sync_protocol::trust::SignedTrustList;
use rusqlite::{params, OptionalExtension};

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
                .query_map([hex::encode(kid)], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
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
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(certificates(rows))
        })
    }

    /// The trust list the registry carries (the province's, verified at upload
    /// against the list before it), or an empty one before any was published.
    pub fn held_trust_list(&self) -> Result<TrustList> {
        self.read(|c| {
            let json: Option<String> = c
                .query_row("SELECT list_json FROM trust_list WHERE id = 1", [], |r| {
                    r.get(0)
                })
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
                c.query_row("SELECT COUNT(*) FROM document_signers", [], |r| r.get(0))?;
            if known > 0 {
                return Ok(Vec::new());
            }
            // One card per station and signer is enough; the SODs differ, so all
            // live cards are read — once, at the first start after the migration.
            let rows = c
                .prepare("SELECT station_id, sod FROM cards WHERE sod <> '' ORDER BY rowid")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
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
