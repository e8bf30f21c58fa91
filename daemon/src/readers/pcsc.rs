//! PC/SC readers through pcscd: the daemon's only module that talks to pcsc-lite
//! (through the `card-pcsc` crate). A monitor thread follows readers and cards with
//! `SCardGetStatusChange` plus the PnP pseudo-reader (hotplug), and broadcasts
//! events. When pcscd stops, the old context answers `NoService` forever, so the
//! monitor drops it and establishes a new one until pcscd is back. One broken
//! reader does not stop the others. Card operations connect with a fresh context
//! and run inside one PC/SC transaction, on a card thread of their own so that
//! every command has a deadline (card_pcsc::deadline): a card that stops answering
//! fails the operation with a timeout, and its reader stays held (`CardHung`) until
//! the card is pulled and the driver lets go.

use super::{CardOp, ReaderBackend, ReaderError, ReaderEvent, ReaderInfo};
use card_pcsc::establish;
use card_pcsc::pcsc::{self, Context, ReaderState, State};
use card_profile::transport::TransportError;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

const POLL: Duration = Duration::from_millis(500);
const RETRY: Duration = Duration::from_millis(500);

#[derive(Default)]
struct Snapshot {
    service_up: bool,
    present: BTreeMap<String, bool>,
    busy: BTreeSet<String>,
    /// Readers whose card stopped answering: busy until the card is taken out.
    hung: BTreeSet<String>,
}

pub struct PcscReaders {
    snapshot: Arc<Mutex<Snapshot>>,
    /// How long a card gets to answer one command (see card_pcsc::deadline).
    deadline: Duration,
    events: broadcast::Sender<ReaderEvent>,
    stop: Arc<AtomicBool>,
}

impl PcscReaders {
    /// Starts the monitor thread. Works with pcscd absent: readers appear when it comes.
    /// Each card command has `deadline` to answer.
    pub fn start(deadline: Duration) -> Arc<Self> {
        let me = Arc::new(Self {
            snapshot: Arc::new(Mutex::new(Snapshot::default())),
            deadline,
            events: broadcast::channel(256).0,
            stop: Arc::new(AtomicBool::new(false)),
        });
        let (snapshot, events, stop) = (
            Arc::clone(&me.snapshot),
            me.events.clone(),
            Arc::clone(&me.stop),
        );
        std::thread::Builder::new()
            .name("pcsc-monitor".into())
            .spawn(move || monitor(&snapshot, &events, &stop))
            .ok();
        me
    }

    fn snapshot_service_up(&self) -> bool {
        self.snapshot.lock().map(|s| s.service_up).unwrap_or(false)
    }
}

impl Drop for PcscReaders {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn monitor(snapshot: &Mutex<Snapshot>, events: &broadcast::Sender<ReaderEvent>, stop: &AtomicBool) {
    let mut announced_down = false;
    while !stop.load(Ordering::Relaxed) {
        let ctx = match establish() {
            Ok(ctx) => ctx,
            Err(e) => {
                if !announced_down {
                    let _ = events.send(ReaderEvent::ServiceDown {
                        detail: e.to_string(),
                    });
                    announced_down = true;
                }
                set_down(snapshot, events);
                std::thread::sleep(RETRY);
                continue;
            }
        };
        if let Ok(mut s) = snapshot.lock() {
            s.service_up = true;
        }
        if announced_down {
            let _ = events.send(ReaderEvent::ServiceUp);
            announced_down = false;
        }
        if let Err(e) = watch(&ctx, snapshot, events, stop) {
            tracing::warn!(error = %e, "pcscd connection lost; reconnecting");
            let _ = events.send(ReaderEvent::ServiceDown {
                detail: e.to_string(),
            });
            announced_down = true;
            set_down(snapshot, events);
            std::thread::sleep(RETRY);
        }
    }
}

/// Marks every reader gone (pcscd is down: nothing can be used).
fn set_down(snapshot: &Mutex<Snapshot>, events: &broadcast::Sender<ReaderEvent>) {
    if let Ok(mut s) = snapshot.lock() {
        s.service_up = false;
        for (name, _) in std::mem::take(&mut s.present) {
            let _ = events.send(ReaderEvent::ReaderRemoved { reader: name });
        }
    }
}

/// Follows one context until pcscd goes away (`Err`) or the monitor stops.
fn watch(
    ctx: &Context,
    snapshot: &Mutex<Snapshot>,
    events: &broadcast::Sender<ReaderEvent>,
    stop: &AtomicBool,
) -> Result<(), pcsc::Error> {
    let mut states: Vec<ReaderState> =
        vec![ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE)];
    while !stop.load(Ordering::Relaxed) {
        // Drop readers that vanished, add new ones.
        let names: Vec<CString> = match ctx.list_readers_owned() {
            Ok(n) => n,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e),
        };
        states.retain(|rs| {
            rs.name() == pcsc::PNP_NOTIFICATION() || names.iter().any(|n| n.as_c_str() == rs.name())
        });
        for name in &names {
            if !states.iter().any(|rs| rs.name() == name.as_c_str()) {
                states.push(ReaderState::new(name.clone(), State::UNAWARE));
            }
        }
        publish(snapshot, events, &states);
        for rs in &mut states {
            rs.sync_current_state();
        }
        match ctx.get_status_change(POLL, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            // A reader unplugged while waiting: the next listing sorts it out.
            Err(pcsc::Error::UnknownReader) | Err(pcsc::Error::ReaderUnavailable) => {}
            Err(e) => return Err(e),
        }
        publish(snapshot, events, &states);
    }
    Ok(())
}

/// Turns reader states into the snapshot and the insert/remove events.
fn publish(
    snapshot: &Mutex<Snapshot>,
    events: &broadcast::Sender<ReaderEvent>,
    states: &[ReaderState],
) {
    let Ok(mut s) = snapshot.lock() else {
        return;
    };
    let mut seen = BTreeMap::new();
    for rs in states
        .iter()
        .filter(|rs| rs.name() != pcsc::PNP_NOTIFICATION())
    {
        let name = rs.name().to_string_lossy().into_owned();
        let ev = rs.event_state();
        let present = ev.contains(State::PRESENT) && !ev.contains(State::MUTE);
        // UNAWARE is the empty set: a reader not polled yet keeps what we knew.
        let present = if ev.is_empty() {
            s.present.get(&name).copied().unwrap_or(false)
        } else {
            present
        };
        seen.insert(name, present);
    }
    for (name, present) in &seen {
        match s.present.get(name) {
            None => {
                let _ = events.send(ReaderEvent::ReaderAdded {
                    reader: name.clone(),
                });
                if *present {
                    let _ = events.send(ReaderEvent::CardInserted {
                        reader: name.clone(),
                    });
                }
            }
            Some(was) if was != present => {
                let _ = events.send(if *present {
                    ReaderEvent::CardInserted {
                        reader: name.clone(),
                    }
                } else {
                    ReaderEvent::CardRemoved {
                        reader: name.clone(),
                    }
                });
            }
            Some(_) => {}
        }
    }
    for name in s.present.keys().filter(|n| !seen.contains_key(*n)) {
        let _ = events.send(ReaderEvent::ReaderRemoved {
            reader: name.clone(),
        });
    }
    s.present = seen;
}

impl ReaderBackend for PcscReaders {
    fn service_up(&self) -> bool {
        self.snapshot_service_up()
    }

    fn list(&self) -> Vec<ReaderInfo> {
        self.snapshot
            .lock()
            .map(|s| {
                s.present
                    .iter()
                    .map(|(name, present)| ReaderInfo {
                        name: name.clone(),
                        card_present: *present,
                        busy: s.busy.contains(name),
                        simulated: false,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn subscribe(&self) -> broadcast::Receiver<ReaderEvent> {
        self.events.subscribe()
    }

    fn run_blocking(&self, reader: &str, op: CardOp<()>) -> Result<(), ReaderError> {
        {
            let mut s = self
                .snapshot
                .lock()
                .map_err(|_| ReaderError::ServiceUnavailable("reader state poisoned".into()))?;
            if !s.service_up {
                return Err(ReaderError::ServiceUnavailable("pcscd".into()));
            }
            if !s.present.contains_key(reader) {
                return Err(ReaderError::UnknownReader(reader.into()));
            }
            if s.hung.contains(reader) {
                return Err(ReaderError::CardHung(reader.into()));
            }
            if !s.busy.insert(reader.to_owned()) {
                return Err(ReaderError::Busy(reader.into()));
            }
        }
        // The card thread frees the reader when it lets go of the card: at once
        // normally, only when the card is pulled if it stopped answering.
        let snapshot = Arc::clone(&self.snapshot);
        let name = reader.to_owned();
        let released = move || {
            if let Ok(mut s) = snapshot.lock() {
                s.busy.remove(&name);
                s.hung.remove(&name);
            }
        };
        let ran =
            card_pcsc::run_on_reader(reader, self.deadline, released, op).map_err(|e| match e {
                TransportError::NoCard | TransportError::CardRemoved => {
                    ReaderError::NoCard(reader.into())
                }
                TransportError::ReaderUnavailable(d) => ReaderError::ServiceUnavailable(d),
                other => ReaderError::Transport(other),
            })?;
        if ran.card_hung {
            tracing::warn!(
                reader,
                "card stopped answering; reader held until it is pulled"
            );
            if let Ok(mut s) = self.snapshot.lock() {
                // Unless the card thread already let go in the meantime.
                if s.busy.contains(reader) {
                    s.hung.insert(reader.to_owned());
                }
            }
        }
        Ok(())
    }
}
