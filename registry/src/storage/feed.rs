//! The feed: one global, strictly increasing cursor (SQLite AUTOINCREMENT, a
//! PostgreSQL identity; writers are serialised by the writer lock, so a reader
//! never sees cursor n+1 committed before n).

use super::db::params;
use super::{Result, Station, Storage, Tx};
use ecard_sync_protocol::feed::{FeedBody, FeedItem, FeedPage};

fn kind_of(body: &FeedBody) -> &'static str {
    match body {
        FeedBody::IssuanceOrder(_) => "issuance_order",
        FeedBody::OrderWithdrawn(_) => "order_withdrawn",
        FeedBody::StatusChange(_) => "status_change",
        FeedBody::TrustListUpdate(_) => "trust_list_update",
        FeedBody::ApplicationDecision(_) => "application_decision",
        FeedBody::DocumentSigner(_) => "document_signer",
        FeedBody::ReviewRecorded(_) => "review_recorded",
    }
}

/// Appends an item. `region`: only stations serving that region see it (`None`:
/// all). `origin`: the station that caused it does not get it back.
pub(super) fn push(
    tx: &Tx<'_>,
    body: &FeedBody,
    region: Option<&str>,
    origin: Option<&str>,
) -> Result<u64> {
    let cursor: i64 = tx.conn().query_row(
        "INSERT INTO feed (kind, region, origin, body_json, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         RETURNING cursor",
        params![
            kind_of(body),
            region,
            origin,
            serde_json::to_string(body)?,
            tx.now()
        ],
        |r| r.get(0),
    )?;
    Ok(cursor.max(0) as u64)
}

impl Storage {
    /// One page of the feed for `station`, after `after`.
    ///
    /// A station sees items for all (`region` NULL) and issuance orders whose
    /// unit region starts with the station's region; never its own changes.
    pub fn feed_page(&self, station: &Station, after: u64, limit: u32) -> Result<FeedPage> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT cursor, created_at, body_json FROM feed
                 WHERE cursor > ?1
                   AND (region IS NULL OR (CAST(?2 AS TEXT) IS NOT NULL
                        AND substr(region, 1, length(CAST(?2 AS TEXT))) = CAST(?2 AS TEXT)))
                   AND (origin IS NULL OR origin <> ?3)
                 ORDER BY cursor LIMIT ?4",
            )?;
            let rows = st.query_map(
                params![after as i64, station.region, station.id, i64::from(limit)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )?;
            let mut items = Vec::new();
            for row in rows {
                let (cursor, created_at, body) = row?;
                items.push(FeedItem {
                    cursor: cursor.max(0) as u64,
                    created_at,
                    body: serde_json::from_str(&body)?,
                });
            }
            let has_more = items.len() as u64 == u64::from(limit);
            let next_cursor = if has_more {
                items.last().map_or(after, |i| i.cursor)
            } else {
                // Nothing more for this station up to the newest item: skip past
                // the items meant for others so the next poll starts there.
                let top: i64 = c.query_row(
                    "SELECT COALESCE(MAX(cursor), 0) FROM feed",
                    params![],
                    |r| r.get(0),
                )?;
                (top.max(0) as u64).max(after)
            };
            Ok(FeedPage::new(
                &station.id,
                after,
                items,
                next_cursor,
                has_more,
            ))
        })
    }
}
