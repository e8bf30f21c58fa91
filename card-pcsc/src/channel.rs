//! `CardChannel` over PC/SC. Every `pcsc` call of this crate lives here (plus the
//! reader-wait helpers at the bottom), so the rest of the crate — and the command
//! sequences in card-profile — never see a PC/SC type.

use std::ffi::{CStr, CString};
use std::thread;
use std::time::{Duration, Instant};

use card_profile::transport::{CardChannel, TransportError};
use pcsc::{Card, Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

/// T=0 and T=1: the sim can announce either (`--t0`), and real cards do too.
const PROTOCOLS: Protocols = Protocols::ANY;

/// How long `connect` keeps retrying while another process holds the card exclusively.
const SHARING_RETRY_FOR: Duration = Duration::from_secs(2);

/// Maps a PC/SC error onto the transport's vocabulary.
///
/// `NotTransacted` is listed with removal on purpose: through vpcd an emulator that went
/// away between APDUs shows up as either `RemovedCard` or `NotTransacted` (PCSC.md).
pub fn map_pcsc_error(err: pcsc::Error) -> TransportError {
    use pcsc::Error as E;
    match err {
        E::RemovedCard | E::NotTransacted => TransportError::CardRemoved,
        E::ResetCard => TransportError::CardReset,
        E::NoSmartcard => TransportError::NoCard,
        E::NoService
        | E::ServiceStopped
        | E::ReaderUnavailable
        | E::UnknownReader
        | E::NoReadersAvailable
        | E::Shutdown
        | E::InvalidHandle => TransportError::ReaderUnavailable(err.to_string()),
        other => TransportError::Other(other.to_string()),
    }
}

/// A connection to the card in one reader.
pub struct PcscChannel {
    card: Card,
    reader: CString,
    /// Sized for extended APDUs: a 64 KiB response plus SW must fit in one transmit.
    recv: Vec<u8>,
}

impl std::fmt::Debug for PcscChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscChannel")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl PcscChannel {
    /// Connects in shared mode, retrying briefly on `SharingViolation`, which is
    /// temporary: another client holds an exclusive transaction.
    pub fn connect(ctx: &Context, reader: &CStr) -> Result<Self, TransportError> {
        let deadline = Instant::now() + SHARING_RETRY_FOR;
        let mut backoff = Duration::from_millis(10);
        let card = loop {
            match ctx.connect(reader, ShareMode::Shared, PROTOCOLS) {
                Ok(card) => break card,
                Err(pcsc::Error::SharingViolation) if Instant::now() < deadline => {
                    thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(200));
                }
                Err(e) => return Err(map_pcsc_error(e)),
            }
        };
        Ok(Self {
            card,
            reader: reader.to_owned(),
            recv: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        })
    }

    /// Connects to a reader by name with a fresh context.
    pub fn connect_by_name(reader: &str) -> Result<Self, TransportError> {
        let ctx = establish()?;
        let name = CString::new(reader)
            .map_err(|_| TransportError::Other(format!("reader name {reader:?} has a NUL")))?;
        Self::connect(&ctx, &name)
    }

    pub fn reader_name(&self) -> String {
        self.reader.to_string_lossy().into_owned()
    }

    /// The ATR of the card this channel is connected to.
    pub fn atr(&self) -> Result<Vec<u8>, TransportError> {
        let status = self.card.status2_owned().map_err(map_pcsc_error)?;
        Ok(status.atr().to_vec())
    }

    /// Re-establishes the connection after `CardReset` (another host reset the card).
    /// Volatile card state is gone; the caller re-selects the application.
    pub fn reconnect(&mut self) -> Result<(), TransportError> {
        self.card
            .reconnect(ShareMode::Shared, PROTOCOLS, Disposition::LeaveCard)
            .map_err(map_pcsc_error)
    }

    /// Runs `f` inside one PC/SC transaction, so no other client can interleave APDUs
    /// with a command sequence (select → authenticate → write must not be split).
    ///
    /// `pcsc::Transaction` borrows the card, so callers cannot hold it themselves;
    /// this hands the closure a `CardChannel` that lives exactly as long as the
    /// transaction. The outer error is for beginning the transaction; what happens
    /// inside is the closure's own result.
    pub fn transaction<R>(
        &mut self,
        f: impl FnOnce(&mut dyn CardChannel) -> R,
    ) -> Result<R, TransportError> {
        // A card reset since the connection was made shows at the start of the
        // transaction: reconnect once and begin again (openpgp-card does the same).
        let mut tx = match self.card.transaction2() {
            Ok(tx) => tx,
            Err((card, pcsc::Error::ResetCard)) => {
                card.reconnect(ShareMode::Shared, PROTOCOLS, Disposition::LeaveCard)
                    .map_err(map_pcsc_error)?;
                card.transaction().map_err(map_pcsc_error)?
            }
            Err((_, e)) => return Err(map_pcsc_error(e)),
        };
        let mut inner = TxChannel {
            tx: &mut tx,
            recv: &mut self.recv,
        };
        let result = f(&mut inner);
        // Ending can fail when the card left during the closure; the closure has
        // already seen that through its own transmit, so its result stands.
        let _ = tx.end(Disposition::LeaveCard);
        Ok(result)
    }
}

impl CardChannel for PcscChannel {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit_on(&self.card, &mut self.recv, command)
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        PcscChannel::reconnect(self)
    }
}

/// The channel handed to a [`PcscChannel::transaction`] closure.
struct TxChannel<'a, 'tx> {
    tx: &'a mut pcsc::Transaction<'tx>,
    recv: &'a mut Vec<u8>,
}

impl CardChannel for TxChannel<'_, '_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit_on(self.tx, self.recv, command)
    }

    /// Reconnects inside the transaction: pcsc-lite keeps the lock with the handle.
    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.tx
            .reconnect(ShareMode::Shared, PROTOCOLS, Disposition::LeaveCard)
            .map_err(map_pcsc_error)
    }
}

fn transmit_on(card: &Card, recv: &mut [u8], command: &[u8]) -> Result<Vec<u8>, TransportError> {
    let response = card.transmit(command, recv).map_err(map_pcsc_error)?;
    // An emulator that vanishes mid-APDU can yield Ok with 0 bytes (PCSC.md). A
    // response without a status word is never a success.
    if response.len() < 2 {
        return Err(TransportError::CardRemoved);
    }
    Ok(response.to_vec())
}

// ---- reader helpers (the only other pcsc calls of the crate) ----

/// A new user-scope context; `NoService` when pcscd is not running.
pub fn establish() -> Result<Context, TransportError> {
    Context::establish(Scope::User).map_err(map_pcsc_error)
}

/// Reader names known to pcscd; none is not an error.
pub fn list_readers(ctx: &Context) -> Result<Vec<String>, TransportError> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(map_pcsc_error(e)),
    }
}

/// Whether a card is present (and not mute) in `reader`, as pcscd sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Present,
    Absent,
}

/// Blocks in `SCardGetStatusChange` until `reader` reports `want`, or `timeout` ends.
/// Returns `Ok(false)` on timeout.
pub fn wait_presence(
    ctx: &Context,
    reader: &str,
    want: Presence,
    timeout: Duration,
) -> Result<bool, TransportError> {
    let name = CString::new(reader)
        .map_err(|_| TransportError::Other(format!("reader name {reader:?} has a NUL")))?;
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    let deadline = Instant::now() + timeout;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match ctx.get_status_change(remaining, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Timeout) => return Ok(false),
            Err(e) => return Err(map_pcsc_error(e)),
        }
        let event = states[0].event_state();
        let present = event.contains(State::PRESENT) && !event.contains(State::MUTE);
        let done = match want {
            Presence::Present => present,
            Presence::Absent => event.contains(State::EMPTY),
        };
        if done {
            return Ok(true);
        }
        if remaining.is_zero() {
            return Ok(false);
        }
        states[0].sync_current_state();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_errors_map_to_card_removed() {
        assert_eq!(
            map_pcsc_error(pcsc::Error::RemovedCard),
            TransportError::CardRemoved
        );
        assert_eq!(
            map_pcsc_error(pcsc::Error::NotTransacted),
            TransportError::CardRemoved
        );
        assert_eq!(
            map_pcsc_error(pcsc::Error::ResetCard),
            TransportError::CardReset
        );
        assert_eq!(
            map_pcsc_error(pcsc::Error::NoSmartcard),
            TransportError::NoCard
        );
        assert!(matches!(
            map_pcsc_error(pcsc::Error::NoService),
            TransportError::ReaderUnavailable(_)
        ));
        assert!(matches!(
            map_pcsc_error(pcsc::Error::UnresponsiveCard),
            TransportError::Other(_)
        ));
    }
}
