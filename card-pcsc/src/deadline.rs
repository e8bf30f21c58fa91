//! A deadline for every APDU.
//!
//! pcsc-lite cannot abandon a command in flight: `SCardTransmit` blocks until the
//! reader driver returns, `SCardCancel` only ends a waiting `SCardGetStatusChange`,
//! and `SCardDisconnect` on the same handle waits for the client library's context
//! lock, which the blocked transmit holds (docs/RELIABILITY.md). How long a driver
//! waits for a mute card is its own business: vpcd waits for ever (until the card is
//! pulled), a CCID reader until its own timeouts, which a card's time-extension
//! requests can prolong without bound.
//!
//! So the card is held by a thread of its own. The operation runs on the caller's
//! thread and hands each command over; when an answer does not come within the
//! deadline the operation gets [`TransportError::Timeout`] at once, every later
//! transmit fails the same way, and the card thread is left behind, blocked in the
//! driver. It finishes — ends the transaction, disconnects, and calls `released` —
//! when the driver lets go, which at the latest is when the card is taken out.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use card_profile::transport::{CardChannel, TransportError};

/// What the card thread tells the operation.
enum FromCard {
    /// Connected and inside the transaction: commands can come.
    Opened,
    /// Could not connect (or begin the transaction).
    Failed(TransportError),
    Response(Result<Vec<u8>, TransportError>),
}

/// What the operation asks of the card thread.
enum ToCard {
    Apdu(Vec<u8>),
    /// Reconnect after a card reset (answered as a response with no bytes).
    Reconnect,
}

/// What the card thread's `hold` is given: serves the operation's commands on the
/// channel to the card, and returns when the operation is over.
pub type Serve<'s> = dyn FnMut(&mut dyn CardChannel) + 's;

/// The result of an operation run by [`run_with_deadline`].
#[derive(Debug)]
pub struct Ran<R> {
    pub result: R,
    /// A command did not come back within the deadline: the card thread is still
    /// blocked in the driver and `released` runs only when it returns.
    pub card_hung: bool,
}

/// Calls its function once, when dropped: `released` runs whether the card thread
/// ends normally, panics, or was never started.
struct OnDrop(Option<Box<dyn FnOnce() + Send>>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// Runs `op` against the card that `hold` opens on a thread of its own; every
/// command (and the opening itself) has `deadline` to answer.
///
/// `hold` runs on the card thread: it connects, begins the transaction, and calls the
/// `serve` function it is given with the channel to the card; `serve` returns when
/// the operation is over. `released` runs on the card thread after `hold` returned
/// (the card is free again). The outer error is for opening the card.
pub fn run_with_deadline<R, H>(
    deadline: Duration,
    hold: H,
    released: impl FnOnce() + Send + 'static,
    op: impl FnOnce(&mut dyn CardChannel) -> R,
) -> Result<Ran<R>, TransportError>
where
    H: FnOnce(&mut dyn FnMut(&mut dyn CardChannel)) -> Result<(), TransportError> + Send + 'static,
{
    let (cmd_tx, cmd_rx) = mpsc::channel::<ToCard>();
    let (card_tx, card_rx) = mpsc::channel::<FromCard>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let released = OnDrop(Some(Box::new(released)));
    std::thread::Builder::new()
        .name("card-io".into())
        .spawn(move || {
            // Locals drop in reverse order: `released` runs after the card has been
            // let go (end of `hold`), and before `done` tells the operation so.
            let _done = done_tx;
            let _released = released;
            let answers = card_tx.clone();
            let mut serve = |chan: &mut dyn CardChannel| {
                if answers.send(FromCard::Opened).is_err() {
                    return;
                }
                while let Ok(request) = cmd_rx.recv() {
                    let response = match request {
                        ToCard::Apdu(command) => chan.transmit(&command),
                        ToCard::Reconnect => chan.reconnect().map(|()| Vec::new()),
                    };
                    if answers.send(FromCard::Response(response)).is_err() {
                        return;
                    }
                }
            };
            if let Err(e) = hold(&mut serve) {
                let _ = card_tx.send(FromCard::Failed(e));
            }
        })
        .map_err(|e| TransportError::Other(format!("cannot start the card thread: {e}")))?;

    match card_rx.recv_timeout(deadline) {
        Ok(FromCard::Opened) => {}
        Ok(FromCard::Failed(e)) => return Err(e),
        Ok(FromCard::Response(_)) => {
            return Err(TransportError::Other(
                "card thread answered out of turn".into(),
            ))
        }
        Err(RecvTimeoutError::Timeout) => return Err(TransportError::Timeout(deadline)),
        Err(RecvTimeoutError::Disconnected) => {
            return Err(TransportError::Other("card thread ended".into()))
        }
    }
    let mut chan = DeadlineChannel {
        commands: Some(cmd_tx),
        answers: card_rx,
        deadline,
        hung: false,
    };
    let result = op(&mut chan);
    let card_hung = chan.hung;
    // Ends the card thread's serve loop: it ends the transaction and disconnects.
    drop(chan);
    if !card_hung {
        // So that the reader is free when the caller answers (a next operation must
        // not find it busy). A driver that blocks here is waited for no longer.
        let _ = done_rx.recv_timeout(deadline);
    }
    Ok(Ran { result, card_hung })
}

/// [`run_with_deadline`] on the card in `reader`: a fresh context (one made before a
/// pcscd restart is dead), a shared connection, and one PC/SC transaction around the
/// whole operation.
pub fn run_on_reader<R>(
    reader: &str,
    deadline: Duration,
    released: impl FnOnce() + Send + 'static,
    op: impl FnOnce(&mut dyn CardChannel) -> R,
) -> Result<Ran<R>, TransportError> {
    let name = std::ffi::CString::new(reader)
        .map_err(|_| TransportError::Other(format!("reader name {reader:?} has a NUL")))?;
    let hold = move |serve: &mut Serve<'_>| {
        let ctx = crate::channel::establish()?;
        let mut channel = crate::PcscChannel::connect(&ctx, &name)?;
        channel.transaction(|chan| serve(chan))
    };
    run_with_deadline(deadline, hold, released, op)
}

/// The operation's side of the card: each transmit waits at most `deadline`.
struct DeadlineChannel {
    commands: Option<Sender<ToCard>>,
    answers: Receiver<FromCard>,
    deadline: Duration,
    hung: bool,
}

impl CardChannel for DeadlineChannel {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.ask(ToCard::Apdu(command.to_vec()))
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.ask(ToCard::Reconnect).map(drop)
    }
}

impl DeadlineChannel {
    /// Hands one request to the card thread and waits at most the deadline.
    fn ask(&mut self, request: ToCard) -> Result<Vec<u8>, TransportError> {
        if self.hung {
            return Err(TransportError::Timeout(self.deadline));
        }
        let gone = || TransportError::Other("card thread ended".into());
        self.commands
            .as_ref()
            .ok_or_else(gone)?
            .send(request)
            .map_err(|_| gone())?;
        match self.answers.recv_timeout(self.deadline) {
            Ok(FromCard::Response(response)) => response,
            Ok(FromCard::Failed(e)) => Err(e),
            Ok(FromCard::Opened) => Err(TransportError::Other(
                "card thread answered out of turn".into(),
            )),
            Err(RecvTimeoutError::Timeout) => {
                self.hung = true;
                // No more commands: the card thread ends once the driver returns.
                self.commands = None;
                Err(TransportError::Timeout(self.deadline))
            }
            Err(RecvTimeoutError::Disconnected) => Err(gone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// A card that answers `9000` to everything until `mute_from`, then blocks until
    /// `pulled` is set (as a driver blocks until the card is taken out).
    struct Scripted {
        seen: usize,
        mute_from: usize,
        pulled: Arc<AtomicBool>,
    }

    impl CardChannel for Scripted {
        fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.seen += 1;
            if self.seen > self.mute_from {
                while !self.pulled.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                return Err(TransportError::CardRemoved);
            }
            Ok(vec![0x90, 0x00])
        }
    }

    fn holder(
        mute_from: usize,
        pulled: Arc<AtomicBool>,
    ) -> impl FnOnce(&mut Serve<'_>) -> Result<(), TransportError> + Send {
        move |serve| {
            let mut card = Scripted {
                seen: 0,
                mute_from,
                pulled,
            };
            serve(&mut card);
            Ok(())
        }
    }

    #[test]
    fn a_mute_card_times_out_and_is_released_only_when_pulled() {
        let pulled = Arc::new(AtomicBool::new(false));
        let released = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&released);
        let ran = run_with_deadline(
            Duration::from_millis(100),
            holder(2, Arc::clone(&pulled)),
            move || r.store(true, Ordering::SeqCst),
            |chan| {
                let answers: Vec<_> = (0..4).map(|_| chan.transmit(&[0, 0xB0, 0, 0])).collect();
                answers
            },
        )
        .expect("opened");
        assert!(ran.card_hung);
        assert_eq!(ran.result[0], Ok(vec![0x90, 0x00]));
        assert_eq!(ran.result[1], Ok(vec![0x90, 0x00]));
        assert!(matches!(ran.result[2], Err(TransportError::Timeout(_))));
        // Once hung, later commands fail at once, never reaching the card.
        assert!(matches!(ran.result[3], Err(TransportError::Timeout(_))));
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !released.load(Ordering::SeqCst),
            "released while still blocked"
        );
        pulled.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !released.load(Ordering::SeqCst) {
            assert!(std::time::Instant::now() < deadline, "never released");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn an_answering_card_is_released_before_the_operation_returns() {
        let released = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&released);
        let ran = run_with_deadline(
            Duration::from_secs(5),
            holder(usize::MAX, Arc::new(AtomicBool::new(true))),
            move || r.store(true, Ordering::SeqCst),
            |chan| chan.transmit(&[0, 0xA4, 4, 0]),
        )
        .expect("opened");
        assert!(!ran.card_hung);
        assert_eq!(ran.result, Ok(vec![0x90, 0x00]));
        assert!(released.load(Ordering::SeqCst));
    }

    #[test]
    fn a_card_that_cannot_be_opened_reports_why_and_is_released() {
        let released = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&released);
        let err = run_with_deadline(
            Duration::from_secs(5),
            |_serve: &mut Serve<'_>| Err(TransportError::NoCard),
            move || r.store(true, Ordering::SeqCst),
            |_chan| (),
        )
        .expect_err("no card");
        assert_eq!(err, TransportError::NoCard);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !released.load(Ordering::SeqCst) {
            assert!(std::time::Instant::now() < deadline, "never released");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn opening_that_hangs_times_out() {
        let pulled = Arc::new(AtomicBool::new(false));
        let p = Arc::clone(&pulled);
        let err = run_with_deadline(
            Duration::from_millis(50),
            move |_serve: &mut Serve<'_>| {
                while !p.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TransportError::CardRemoved)
            },
            || {},
            |_chan| (),
        )
        .expect_err("hung open");
        assert!(matches!(err, TransportError::Timeout(_)));
        pulled.store(true, Ordering::SeqCst);
    }
}
