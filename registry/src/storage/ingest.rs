//! Event ingest: a station's batch is applied in its outbox order, exactly once,
//! in one transaction. The station's `last_applied_seq` moves in the same
//! transaction as the events' effects, so a crash leaves either all of a batch
//! or none of it, and a re-sent batch is recognised by its sequence numbers.

use super::authority::{self, Refusal, Sender};
use super::db::{params, OptionalExtension};
use super::signers;
use super::{
    feed, intake, is_constraint, revocations, IngestHooks, Result, Storage, StorageError, Tx,
};
use card_profile::records::ReviewResult;
use ecard_sync_protocol::events::{
    CardIssued, CardVoided, EventAck, EventBody, EventRefusal, ReviewRecorded, StationEvent,
    StatusChanged, StatusKind,
};
use ecard_sync_protocol::feed::{FeedBody, ReviewNotice, StatusChangeNotice};
use ecard_sync_protocol::revocation::EntryKind;
use ecard_sync_protocol::PROTOCOL_VERSION;

impl Storage {
    /// Applies a decoded batch from `station`. Events at or below the station's
    /// last applied sequence are duplicates (checked to be the same events, then
    /// skipped); the next one must be exactly last + 1, or the whole batch is
    /// refused and nothing changes.
    ///
    /// Each new event is first checked against what the station may do
    /// (`authority`): one it may not do is acknowledged (its sequence counts, the
    /// station's outbox moves on) but applied nowhere, recorded in `refused_events`
    /// and returned in the answer's `refused`; a duplicate of a refused event is
    /// reported again.
    /// `hooks` files what the workflow decides (station applications, numbers seen).
    pub fn ingest(
        &self,
        station: &str,
        events: &[(StationEvent, EventBody)],
        hooks: &dyn IngestHooks,
    ) -> Result<EventAck> {
        self.write(|tx| {
            let (last, region): (i64, Option<String>) = tx
                .conn()
                .query_row(
                    "SELECT last_applied_seq, region FROM stations WHERE id = ?1",
                    params![station],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| StorageError::NotFound { what: "station", id: station.to_owned() })?;
            let mut last = last.max(0) as u64;
            let sender = Sender { id: station, region: region.as_deref() };
            let (mut applied, mut duplicates) = (0u64, 0u64);
            let mut refused = Vec::new();
            let received_at = tx.now().to_owned();
            for (ev, body) in events {
                if ev.seq <= last {
                    let stored: Option<String> = tx
                        .conn()
                        .prepare_cached("SELECT event_id FROM events WHERE station_id = ?1 AND seq = ?2")?
                        .query_row(params![station, ev.seq as i64], |r| r.get(0))
                        .optional()?;
                    if stored.as_deref() != Some(ev.event_id.as_str()) {
                        return Err(StorageError::SeqConflict { seq: ev.seq });
                    }
                    refused.extend(stored_refusal(tx, station, ev)?);
                    duplicates += 1;
                    continue;
                }
                if ev.seq != last + 1 {
                    return Err(StorageError::SequenceGap { expected: last + 1, got: ev.seq });
                }
                tx.conn()
                    .prepare_cached(
                        "INSERT INTO events (station_id, seq, event_id, kind, payload, created_at, received_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        station,
                        ev.seq as i64,
                        ev.event_id,
                        ev.kind,
                        ev.payload.to_string(),
                        ev.created_at,
                        received_at
                    ])
                    .map_err(|e| {
                        if is_constraint(&e) {
                            StorageError::EventIdReused(ev.event_id.clone())
                        } else {
                            e.into()
                        }
                    })?;
                let refusal = match authority::check(tx, hooks, &sender, body)? {
                    None => apply(tx, hooks, station, &ev.event_id, body)?,
                    Some(r) => Some(r),
                };
                match refusal {
                    None => applied += 1,
                    Some(r) => refused.push(record_refusal(tx, station, ev, &r)?),
                }
                last = ev.seq;
            }
            tx.conn().execute(
                "UPDATE stations SET last_applied_seq = ?2 WHERE id = ?1",
                params![station, last as i64],
            )?;
            Ok(EventAck {
                version: PROTOCOL_VERSION,
                last_applied_seq: last,
                applied,
                duplicates,
                refused,
            })
        })
    }

    /// The refused events, newest first (at most `limit`), for the registry admin.
    pub fn refused_events(&self, limit: u32) -> Result<Vec<RefusedEvent>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT station_id, seq, event_id, kind, code, message, at FROM refused_events
                 ORDER BY at DESC, station_id, seq DESC LIMIT ?1",
            )?;
            let rows = st
                .query_map(params![i64::from(limit)], |r| {
                    Ok(RefusedEvent {
                        station: r.get(0)?,
                        seq: r.get::<_, i64>(1)?.max(0) as u64,
                        event_id: r.get(2)?,
                        kind: r.get(3)?,
                        code: r.get(4)?,
                        message: r.get(5)?,
                        at: r.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// A status change decided in the registry itself (origin `registry`).
    pub fn record_status_change(
        &self,
        change: &StatusChanged,
        hooks: &dyn IngestHooks,
    ) -> Result<()> {
        self.write(|tx| {
            let state: Option<String> = tx
                .conn()
                .query_row(
                    "SELECT state FROM certificates WHERE number = ?1",
                    params![&change.number],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(state) = state else {
                return Err(StorageError::NotFound {
                    what: "certificate",
                    id: change.number.to_string(),
                });
            };
            // The same table as a station's change (`StatusKind::applies_to`): the
            // administrator gets no way round it (an ended certificate stays ended).
            let state =
                ecard_sync_protocol::state::CertificateState::parse(&state).ok_or_else(|| {
                    StorageError::Invalid(format!("证号{}的状态记录无法识别", change.number))
                })?;
            if !change.kind.applies_to(state) {
                return Err(StorageError::BadTransition {
                    number: change.number.to_string(),
                    state,
                    kind: change.kind,
                });
            }
            tx.apply_status(hooks, "registry", change)
        })
    }
}

/// A refused event as the registry logged it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RefusedEvent {
    pub station: String,
    pub seq: u64,
    pub event_id: String,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub at: String,
}

/// Logs a refusal (the registry's record, and the operator log) and makes its answer.
fn record_refusal(
    tx: &Tx<'_>,
    station: &str,
    ev: &StationEvent,
    r: &Refusal,
) -> Result<EventRefusal> {
    tracing::warn!(station, seq = ev.seq, kind = %ev.kind, code = r.code, "event refused: {}", r.message);
    tx.conn()
        .prepare_cached(
            "INSERT INTO refused_events (station_id, seq, event_id, kind, code, message, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            station,
            ev.seq as i64,
            ev.event_id,
            ev.kind,
            r.code,
            r.message,
            tx.now()
        ])?;
    Ok(EventRefusal {
        seq: ev.seq,
        event_id: ev.event_id.clone(),
        code: r.code.to_owned(),
        message: r.message.clone(),
    })
}

/// The refusal of an event applied before, to report it again on a re-sent batch.
fn stored_refusal(tx: &Tx<'_>, station: &str, ev: &StationEvent) -> Result<Option<EventRefusal>> {
    Ok(tx
        .conn()
        .prepare_cached(
            "SELECT code, message FROM refused_events WHERE station_id = ?1 AND seq = ?2",
        )?
        .query_row(params![station, ev.seq as i64], |r| {
            Ok(EventRefusal {
                seq: ev.seq,
                event_id: ev.event_id.clone(),
                code: r.get(0)?,
                message: r.get(1)?,
            })
        })
        .optional()?)
}

/// Applies `body`; a follow-up to an application may still be refused by the
/// workflow (then nothing of it was written).
fn apply(
    tx: &mut Tx<'_>,
    hooks: &dyn IngestHooks,
    station: &str,
    event_id: &str,
    body: &EventBody,
) -> Result<Option<authority::Refusal>> {
    if matches!(
        body,
        EventBody::ApplicationAmended(_) | EventBody::SendBackRequested(_)
    ) {
        return hooks.station_follow_up(tx, station, body);
    }
    apply_recorded(tx, hooks, station, event_id, body).map(|()| None)
}

fn apply_recorded(
    tx: &mut Tx<'_>,
    hooks: &dyn IngestHooks,
    station: &str,
    event_id: &str,
    body: &EventBody,
) -> Result<()> {
    match body {
        // Handled by `apply`.
        EventBody::ApplicationAmended(_) | EventBody::SendBackRequested(_) => Ok(()),
        EventBody::ApplicationSubmitted(p) => {
            let id = intake::record(tx, station, event_id, p)?;
            hooks.station_application(tx, id, p.unit())
        }
        EventBody::SuccessionSubmitted(p) => {
            let id = intake::record_succession(tx, station, event_id, p)?;
            hooks.station_application(tx, id, p.unit.trim())
        }
        EventBody::CardIssued(p) => apply_issued(tx, hooks, station, p),
        EventBody::CardVoided(p) => apply_voided(tx, station, p),
        EventBody::ReviewRecorded(p) => apply_review(tx, station, p),
        EventBody::StatusChanged(p) => tx.apply_status(hooks, station, p),
    }
}

fn apply_issued(
    tx: &mut Tx<'_>,
    hooks: &dyn IngestHooks,
    station: &str,
    p: &CardIssued,
) -> Result<()> {
    let at = tx.now().to_owned();
    tx.conn()
        .prepare_cached(
            // `authority` refused every other claim to this serial: what is left is
            // the same station re-reporting the same card, which changes nothing
            // (never its state: a suspended card stays suspended).
            "INSERT INTO cards (serial, number, chip_key, sod, issued_on, station_id, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'live')
             ON CONFLICT (serial) DO NOTHING",
        )?
        .execute(params![
            p.serial,
            p.number,
            p.chip_key,
            p.sod,
            p.issued_on.to_string(),
            station
        ])?;
    // A certificate the registry approved becomes issued; one approved at the
    // station is recorded here for the first time.
    tx.conn()
        .prepare_cached(
            "INSERT INTO certificates (number, id_number, state, origin, created_at, updated_at)
             VALUES (?1, ?2, 'issued', ?3, ?4, ?4)
             ON CONFLICT (number) DO UPDATE SET
                 state = CASE WHEN certificates.state = 'approved' THEN 'issued' ELSE certificates.state END,
                 id_number = COALESCE(certificates.id_number, excluded.id_number),
                 updated_at = excluded.updated_at",
        )?
        .execute(params![p.number, p.id_number, station, at])?;
    signers::learn_from_sod(tx, station, &p.sod)?;
    hooks.number_seen(tx, &p.number)
}

fn apply_voided(tx: &mut Tx<'_>, station: &str, p: &CardVoided) -> Result<()> {
    // A serial never reported issued (a card given up mid-job) is claimed by the
    // station voiding it, so that nobody else can report it live later.
    tx.conn()
        .prepare_cached(
            "INSERT INTO cards (serial, number, chip_key, sod, issued_on, station_id, state)
             VALUES (?1, '', '', '', '', ?2, 'void')
             ON CONFLICT (serial) DO UPDATE SET state = 'void'",
        )?
        .execute(params![p.serial, station])?;
    revocations::add(tx, EntryKind::Serial, &p.serial, &p.reason, p.since)
}

fn apply_review(tx: &mut Tx<'_>, station: &str, p: &ReviewRecorded) -> Result<()> {
    let result = match p.result {
        ReviewResult::Passed => "passed",
        ReviewResult::Failed => "failed",
    };
    tx.conn()
        .prepare_cached(
            "INSERT INTO reviews (number, year, review_date, result, remark, station_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (number, year) DO UPDATE SET review_date = excluded.review_date,
                 result = excluded.result, remark = excluded.remark, station_id = excluded.station_id",
        )?
        .execute(params![p.number, p.year, p.date.to_string(), result, p.remark, station])?;
    // Every other station learns it: a card reviewed here without being at hand is
    // checked in the field elsewhere, and that check counts the review (DOMAIN-RULES
    // "annual review"). The station that recorded it does not get it back.
    let notice = FeedBody::ReviewRecorded(ReviewNotice {
        review: p.clone(),
        origin: station.to_owned(),
    });
    feed::push(tx, &notice, None, Some(station))?;
    Ok(())
}

impl Tx<'_> {
    /// Records a status change made at `origin` (a station id or `registry`), updates
    /// the certificate and its cards, revokes what it ends, and tells every other
    /// station through the feed.
    pub(crate) fn apply_status(
        &mut self,
        hooks: &dyn IngestHooks,
        origin: &str,
        p: &StatusChanged,
    ) -> Result<()> {
        let tx = self;
        let at = tx.now().to_owned();
        tx.conn()
        .prepare_cached(
            "INSERT INTO status_changes (number, kind, reason, detail_json, effective_on, new_number, origin, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            p.number,
            p.kind.as_str(),
            p.reason,
            p.detail.to_string(),
            p.effective_on.to_string(),
            p.new_number,
            origin,
            at
        ])?;
        // The one table of what a change makes of a certificate (the protocol's).
        let state = p.kind.state_after().as_str();
        tx.conn()
        .prepare_cached(
            "INSERT INTO certificates (number, state, origin, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (number) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )?
        .execute(params![p.number, state, origin, at])?;
        match p.kind {
            StatusKind::Suspend => {
                tx.conn()
                    .prepare_cached(
                        "UPDATE cards SET state = 'suspended' WHERE number = ?1 AND state = 'live'",
                    )?
                    .execute(params![&p.number])?;
            }
            StatusKind::Lift => {
                tx.conn()
                    .prepare_cached(
                        "UPDATE cards SET state = 'live' WHERE number = ?1 AND state = 'suspended'",
                    )?
                    .execute(params![&p.number])?;
            }
            StatusKind::Cancel | StatusKind::Replace | StatusKind::Reissue => {
                let serials: Vec<String> = tx
                .conn()
                .prepare_cached(
                    "SELECT serial FROM cards WHERE number = ?1 AND state IN ('live','suspended')",
                )?
                .query_map(params![&p.number], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
                revocations::add(tx, EntryKind::Number, &p.number, &p.reason, p.effective_on)?;
                for s in &serials {
                    revocations::add(tx, EntryKind::Serial, s, &p.reason, p.effective_on)?;
                }
                tx.conn()
                .prepare_cached("UPDATE cards SET state = 'revoked' WHERE number = ?1 AND state IN ('live','suspended')")?
                .execute(params![&p.number])?;
            }
        }
        if let Some(new_number) = &p.new_number {
            // Only the registry's own decisions name a successor (`authority`
            // refuses a station's: stations never allocate). A second claim to a
            // number is refused loudly; the successor the decision has just
            // recorded (换证 approval records the new certificate first) is that
            // same claim, not a second one.
            let holder: Option<String> = tx
                .conn()
                .prepare_cached("SELECT origin FROM certificates WHERE number = ?1")?
                .query_row(params![new_number], |r| r.get(0))
                .optional()?;
            match holder {
                Some(o) if o == origin => {}
                Some(_) => {
                    return Err(StorageError::Exists {
                        what: "certificate",
                        id: new_number.to_string(),
                    })
                }
                None => {
                    tx.conn()
                        .prepare_cached(
                            "INSERT INTO certificates (number, state, origin, created_at, updated_at) VALUES (?1, 'approved', ?2, ?3, ?3)",
                        )?
                        .execute(params![new_number, origin, at])?;
                }
            }
            hooks.number_seen(tx, new_number)?;
        }
        let notice = FeedBody::StatusChange(StatusChangeNotice {
            change: p.clone(),
            origin: origin.to_owned(),
        });
        feed::push(tx, &notice, None, Some(origin))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Storage alone: station applications stay recorded, numbers are not noted.
    struct NoHooks;

    impl IngestHooks for NoHooks {
        fn station_application(&self, _: &mut Tx<'_>, _: i64, _: &str) -> Result<()> {
            Ok(())
        }
        fn number_seen(
            &self,
            _: &Tx<'_>,
            _: &ecard_sync_protocol::events::CertificateNumber,
        ) -> Result<()> {
            Ok(())
        }
        fn number_region(&self, number: &str) -> Option<String> {
            ecard_domain::numbering::NumberingRule::sichuan_default()
                .ok()?
                .parse(number)
                .ok()
                .map(|p| p.region)
        }
        fn station_follow_up(
            &self,
            _: &mut Tx<'_>,
            _: &str,
            _: &EventBody,
        ) -> Result<Option<authority::Refusal>> {
            Ok(None)
        }
    }

    fn ev(seq: u64, kind: &str, payload: serde_json::Value) -> (StationEvent, EventBody) {
        let e = StationEvent {
            event_id: format!("ev{seq:04}"),
            seq,
            kind: kind.into(),
            payload,
            created_at: "2026-11-23T00:00:00Z".into(),
        };
        let b = e.body().expect("valid event");
        (e, b)
    }

    fn issued(seq: u64, number: &str, serial: &str) -> (StationEvent, EventBody) {
        ev(
            seq,
            "card_issued",
            json!({"number": number, "serial": serial, "chip_key": "04", "sod": "00", "issued_on": "2026-11-23", "id_number": "11010519491231002X"}),
        )
    }

    fn count(s: &Storage, sql: &str) -> i64 {
        s.read(|c| Ok(c.query_row(sql, params![], |r| r.get(0))?))
            .expect("count")
    }

    fn storage() -> Storage {
        let s = super::super::test_storage(ecard_clock::Clock::system());
        s.add_station("a", "04", Some("川X")).expect("a");
        s.add_station("b", "04", Some("川X")).expect("b");
        s
    }

    #[test]
    fn a_batch_sent_twice_is_applied_once() {
        let s = storage();
        let batch = vec![
            issued(1, "川X010001", "00000000000000A1"),
            issued(2, "川X010002", "00000000000000A2"),
        ];
        let first = s.ingest("a", &batch, &NoHooks).expect("first");
        assert_eq!(
            (first.last_applied_seq, first.applied, first.duplicates),
            (2, 2, 0)
        );
        let again = s.ingest("a", &batch, &NoHooks).expect("again");
        assert_eq!(
            (again.last_applied_seq, again.applied, again.duplicates),
            (2, 0, 2)
        );
        assert_eq!(count(&s, "SELECT COUNT(*) FROM cards"), 2);
        assert_eq!(count(&s, "SELECT COUNT(*) FROM events"), 2);
    }

    #[test]
    fn a_gap_refuses_the_whole_batch() {
        let s = storage();
        let err = s
            .ingest("a", &[issued(2, "川X010001", "00000000000000A1")], &NoHooks)
            .expect_err("gap");
        assert!(matches!(
            err,
            StorageError::SequenceGap {
                expected: 1,
                got: 2
            }
        ));
        assert_eq!(count(&s, "SELECT COUNT(*) FROM cards"), 0);
        assert_eq!(s.station("a").expect("st").expect("a").last_applied_seq, 0);
    }

    #[test]
    fn a_different_event_under_an_applied_seq_is_a_conflict() {
        let s = storage();
        s.ingest("a", &[issued(1, "川X010001", "00000000000000A1")], &NoHooks)
            .expect("first");
        let (mut e, b) = issued(1, "川X010009", "00000000000000A9");
        e.event_id = "other".into();
        assert!(matches!(
            s.ingest("a", &[(e, b)], &NoHooks),
            Err(StorageError::SeqConflict { seq: 1 })
        ));
    }

    #[test]
    fn cancel_revokes_number_and_card_and_reaches_other_stations_only() {
        let s = storage();
        s.ingest("a", &[
            issued(1, "川X010001", "00000000000000A1"),
            ev(2, "status_changed", json!({"number": "川X010001", "kind": "cancel", "reason": "调离", "detail": {"destination": "成都"}, "effective_on": "2026-11-24", "new_number": null})),
        ], &NoHooks)
        .expect("ingest");
        let list = s.revocation_list_full().expect("list");
        let values: Vec<_> = list.entries.iter().map(|e| e.value.as_str()).collect();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["00000000000000A1", "川X010001"]);
        assert_eq!(list.entries.len(), 2);
        assert_eq!(list.number, 1);
        let a = s.station("a").expect("st").expect("a");
        let b = s.station("b").expect("st").expect("b");
        assert!(s.feed_page(&a, 0, 10).expect("feed").items.is_empty());
        let page = s.feed_page(&b, 0, 10).expect("feed");
        assert_eq!(page.items.len(), 1);
        assert_eq!(
            count(
                &s,
                "SELECT COUNT(*) FROM certificates WHERE state = 'cancelled'"
            ),
            1
        );
        // Suspend/lift never touch the list.
        s.ingest("a", &[
            issued(3, "川X010002", "00000000000000A2"),
            ev(4, "status_changed", json!({"number": "川X010002", "kind": "suspend", "reason": "调查", "effective_on": "2026-11-24", "new_number": null})),
        ], &NoHooks)
        .expect("ingest");
        assert_eq!(s.revocation_list_number().expect("n"), 1);
        assert_eq!(
            count(&s, "SELECT COUNT(*) FROM cards WHERE state = 'suspended'"),
            1
        );
    }
}
