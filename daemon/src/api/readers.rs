//! Readers: the list, the live event stream (reader events and job progress as
//! Server-Sent Events). The demo's hands that insert and eject cards: `demo_hands`.

use super::error::ApiError;
use super::session::{need, Granted};
use super::views::ReadersView;
use super::AppState;
use crate::auth::Permission;
use crate::store;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::stream::{Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::BroadcastStream;

pub async fn list(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
) -> Result<Json<ReadersView>, ApiError> {
    let readers = &state.station.readers;
    Ok(Json(ReadersView {
        service_up: readers.service_up(),
        readers: readers.list(),
    }))
}

/// How often an open event stream looks at its session besides being told of ended
/// sessions: an idle or absolute expiry, or a change made by another process.
const SESSION_RECHECK: Duration = Duration::from_secs(20);

/// Completes when the stream's session no longer opens the stream: logged out,
/// expired (idle or absolute), its account disabled or its password changed.
/// `ended` is subscribed when the stream is opened, so an end announced before the
/// stream is first read is not missed.
async fn session_ended(
    state: AppState,
    digest: String,
    mut ended: tokio::sync::watch::Receiver<()>,
) {
    loop {
        tokio::select! {
            changed = ended.changed() => {
                if changed.is_err() {
                    // The server is going away; the recheck timer still runs.
                    tokio::time::sleep(SESSION_RECHECK).await;
                }
            }
            _ = tokio::time::sleep(SESSION_RECHECK) => {}
        }
        let now = state.station.clock().stamp();
        match state
            .station
            .store
            .read(|c| store::session_operator(c, &digest, &now))
        {
            Ok(Some(op)) if op.role.allows(Permission::ReadReaders) => {}
            _ => return,
        }
    }
}

pub async fn events(
    State(state): State<AppState>,
    session: Granted<need::ReadReaders>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // A lagging client skips what it missed (it re-reads the lists); it never
    // blocks the readers or the writers.
    let readers =
        BroadcastStream::new(state.station.readers.subscribe()).filter_map(|e| async move {
            let e = e.ok()?;
            Event::default().event("reader").json_data(e).ok().map(Ok)
        });
    let jobs = BroadcastStream::new(state.station.jobs.subscribe()).filter_map(|e| async move {
        let e = e.ok()?;
        Event::default().event("job").json_data(e).ok().map(Ok)
    });
    // The stream is not activity (it does not keep its session from idling out),
    // and it ends with its session.
    let ended = session_ended(
        state.clone(),
        session.session.digest.clone(),
        state.sessions_ended.subscribe(),
    );
    let stream = futures_util::stream::select(readers, jobs).take_until(Box::pin(ended));
    Ok(Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("ping"),
    ))
}
