//! The trust list the registry hands to every station: signed offline by a province
//! root (`ecard-registry trust-list sign`), stored and fanned out as it came. The
//! registry cannot make one; it only refuses what stations would refuse anyway (a
//! list not signed by a root it carries, a number not above the current one), so an
//! admin mistake shows at upload rather than as a refusal at every station.

use super::db::{params, OptionalExtension};
use super::{feed, Result, Storage, StorageError};
use chrono::NaiveDate;
use ecard_sync_protocol::feed::{FeedBody, TrustListUpdate};
use ecard_sync_protocol::trust::SignedTrustList;

impl Storage {
    /// Replaces the trust list and announces it to all stations; returns the cursor.
    /// The list must be signed by a root of the current list (by one of its own roots
    /// when there is none yet) valid on `today`, with a higher number.
    pub fn set_trust_list(&self, signed: &SignedTrustList, today: NaiveDate) -> Result<u64> {
        let new = signed
            .peek()
            .map_err(|e| StorageError::Invalid(format!("信任列表无法解析：{e}")))?;
        self.write(|tx| {
            let current: Option<String> = tx
                .conn()
                .query_row("SELECT list_json FROM trust_list WHERE id = 1", params![], |r| r.get(0))
                .optional()?;
            // A row from before lists were signed carries no number: any signed list follows it.
            let current = current.and_then(|j| serde_json::from_str::<SignedTrustList>(&j).ok());
            let held = match &current {
                Some(c) => {
                    let held = c
                        .peek()
                        .map_err(|e| StorageError::Invalid(format!("现有信任列表已损坏：{e}")))?;
                    if new.check_succeeds(held.number).is_err() {
                        return Err(StorageError::Invalid(format!(
                            "信任列表编号 {} 不大于现有的 {}，未发布",
                            new.number, held.number
                        )));
                    }
                    held.trust_list.anchors
                }
                None => new.trust_list.anchors.clone(),
            };
            signed.verify(&held, today).map_err(|e| {
                StorageError::Invalid(format!("信任列表须由现有省级根证书离线签名：{e}"))
            })?;
            tx.conn().execute(
                "INSERT INTO trust_list (id, list_json, updated_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET list_json = excluded.list_json, updated_at = excluded.updated_at",
                super::db::params![serde_json::to_string(signed)?, tx.now()],
            )?;
            let body = FeedBody::TrustListUpdate(TrustListUpdate {
                signed: signed.clone(),
            });
            feed::push(tx, &body, None, None)
        })
    }
}
