//! Readers: the station's card slots, behind one facade. A backend is either PC/SC
//! (pcscd; [`pcsc`]) or simulated in-process ([`sim`], for `ecardd demo` and tests).
//! Card operations run as a closure over a [`CardChannel`] on a blocking thread,
//! inside an exclusive transaction on that reader, so no other client can interleave
//! APDUs with a command sequence.

pub mod pcsc;
#[cfg(feature = "demo")]
pub mod sim;

use card_profile::transport::{CardChannel, TransportError};
use serde::Serialize;
use std::sync::Arc;
use thiserror::Error;
use tokio::sync::broadcast;

/// What happens at the readers, for the UI (SSE) and the batch writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ReaderEvent {
    ReaderAdded {
        reader: String,
    },
    ReaderRemoved {
        reader: String,
    },
    CardInserted {
        reader: String,
    },
    CardRemoved {
        reader: String,
    },
    /// pcscd went away; the backend keeps trying to reconnect.
    ServiceDown {
        detail: String,
    },
    ServiceUp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderInfo {
    pub name: String,
    pub card_present: bool,
    /// A command sequence is running on it.
    pub busy: bool,
    pub simulated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReaderError {
    #[error("unknown reader {0}")]
    UnknownReader(String),
    #[error("no card in reader {0}")]
    NoCard(String),
    #[error("reader {0} is busy with another operation")]
    Busy(String),
    /// The card in it stopped answering an earlier operation; the reader is held until
    /// the card is taken out (see card_pcsc::deadline).
    #[error("the card in reader {0} does not answer")]
    CardHung(String),
    #[error("card service unavailable: {0}")]
    ServiceUnavailable(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("operation thread failed: {0}")]
    Join(String),
}

/// A card operation: runs with exclusive use of one reader's card.
pub type CardOp<R> = Box<dyn FnOnce(&mut dyn CardChannel) -> R + Send + 'static>;

/// What a reader backend provides. Implementations block; the facade moves them off
/// the async runtime.
pub trait ReaderBackend: Send + Sync + 'static {
    fn list(&self) -> Vec<ReaderInfo>;
    fn subscribe(&self) -> broadcast::Receiver<ReaderEvent>;
    /// Runs `op` on the card in `reader` inside an exclusive transaction.
    fn run_blocking(&self, reader: &str, op: CardOp<()>) -> Result<(), ReaderError>;
    /// Whether the smart-card service answers (pcscd); simulated readers always do.
    fn service_up(&self) -> bool {
        true
    }
}

/// The readers of this station.
#[derive(Clone)]
pub struct Readers {
    backend: Arc<dyn ReaderBackend>,
}

/// No readers at all: for commands that only touch the records (import).
struct NoReaders(broadcast::Sender<ReaderEvent>);

impl ReaderBackend for NoReaders {
    fn list(&self) -> Vec<ReaderInfo> {
        Vec::new()
    }
    fn subscribe(&self) -> broadcast::Receiver<ReaderEvent> {
        self.0.subscribe()
    }
    fn run_blocking(&self, reader: &str, _op: CardOp<()>) -> Result<(), ReaderError> {
        Err(ReaderError::UnknownReader(reader.to_owned()))
    }
}

impl Readers {
    pub fn new(backend: Arc<dyn ReaderBackend>) -> Self {
        Self { backend }
    }

    pub fn none() -> Self {
        Self::new(Arc::new(NoReaders(broadcast::channel(1).0)))
    }

    pub fn list(&self) -> Vec<ReaderInfo> {
        self.backend.list()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ReaderEvent> {
        self.backend.subscribe()
    }

    pub fn service_up(&self) -> bool {
        self.backend.service_up()
    }

    pub fn backend(&self) -> &Arc<dyn ReaderBackend> {
        &self.backend
    }

    /// Runs a card operation on a blocking thread and returns its result.
    pub async fn run<R: Send + 'static>(
        &self,
        reader: &str,
        op: impl FnOnce(&mut dyn CardChannel) -> R + Send + 'static,
    ) -> Result<R, ReaderError> {
        let backend = Arc::clone(&self.backend);
        let reader = reader.to_owned();
        tokio::task::spawn_blocking(move || Self::run_blocking_on(&*backend, &reader, op))
            .await
            .map_err(|e| ReaderError::Join(e.to_string()))?
    }

    /// The same, for callers that are already on a blocking thread (the CLI).
    pub fn run_sync<R: Send + 'static>(
        &self,
        reader: &str,
        op: impl FnOnce(&mut dyn CardChannel) -> R + Send + 'static,
    ) -> Result<R, ReaderError> {
        Self::run_blocking_on(&*self.backend, reader, op)
    }

    fn run_blocking_on<R: Send + 'static>(
        backend: &dyn ReaderBackend,
        reader: &str,
        op: impl FnOnce(&mut dyn CardChannel) -> R + Send + 'static,
    ) -> Result<R, ReaderError> {
        let (tx, rx) = std::sync::mpsc::channel();
        // The op waits in a cell: a backend that refuses a busy reader drops the
        // closure unrun, and the op is still there for the next try.
        let op = Arc::new(std::sync::Mutex::new(Some(op)));
        let deadline = std::time::Instant::now() + BUSY_GRACE;
        loop {
            let (cell, tx) = (Arc::clone(&op), tx.clone());
            let started = backend.run_blocking(
                reader,
                Box::new(move |channel| {
                    let f = cell.lock().ok().and_then(|mut o| o.take());
                    if let Some(f) = f {
                        let _ = tx.send(f(channel));
                    }
                }),
            );
            match started {
                // A reader finishing the operation before (the photo read after a
                // verdict): wait for it briefly rather than refuse.
                Err(ReaderError::Busy(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(BUSY_RETRY);
                }
                other => {
                    other?;
                    break;
                }
            }
        }
        drop(tx);
        rx.recv()
            .map_err(|_| ReaderError::Join("operation produced no result".into()))
    }
}

/// How long an operation waits for a busy reader before it answers `reader_busy`.
const BUSY_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
const BUSY_RETRY: std::time::Duration = std::time::Duration::from_millis(10);
