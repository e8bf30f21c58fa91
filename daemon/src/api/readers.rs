//! Readers: the list, the live event stream (reader events and job progress as
//! Server-Sent Events). The demo's hands that insert and eject cards: `demo_hands`.

use super::error::ApiError;
use super::session::{need, Granted};
use super::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::stream::{Stream, StreamExt};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::BroadcastStream;

pub async fn list(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
) -> Result<Json<Value>, ApiError> {
    let readers = &state.station.readers;
    Ok(Json(
        json!({ "service_up": readers.service_up(), "readers": readers.list() }),
    ))
}

pub async fn events(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
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
    let stream = futures_util::stream::select(readers, jobs);
    Ok(Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("ping"),
    ))
}
