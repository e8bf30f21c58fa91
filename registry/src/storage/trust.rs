//! The trust list (province root keys) the registry hands to every station.

use super::{feed, Result, Storage};
use card_profile::pki::TrustList;
use ecard_sync_protocol::feed::{FeedBody, TrustListUpdate};
use rusqlite::OptionalExtension;

impl Storage {
    /// Replaces the trust list and announces it to all stations; returns the cursor.
    pub fn set_trust_list(&self, list: &TrustList) -> Result<u64> {
        self.write(|tx| {
            tx.conn().execute(
                "INSERT INTO trust_list (id, list_json, updated_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET list_json = excluded.list_json, updated_at = excluded.updated_at",
                rusqlite::params![serde_json::to_string(list)?, tx.now()],
            )?;
            let body = FeedBody::TrustListUpdate(TrustListUpdate { trust_list: list.clone() });
            feed::push(tx, &body, None, None)
        })
    }

    pub fn trust_list(&self) -> Result<TrustList> {
        self.read(|c| {
            let json: Option<String> = c
                .query_row("SELECT list_json FROM trust_list WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(match json {
                Some(j) => serde_json::from_str(&j)?,
                None => TrustList::default(),
            })
        })
    }
}
