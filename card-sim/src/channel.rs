//! [`SimChannel`]: the software card as a [`CardChannel`], with an APDU trace,
//! traffic counters and fault injection (tear at APDU k).

use crate::fault::TearPlan;
use crate::SimCard;
use card_profile::transport::{CardChannel, TransportError};

/// Traffic through the channel: what benchmarks and tests report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub apdus: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// An in-process reader with a [`SimCard`] in it.
#[derive(Debug)]
pub struct SimChannel {
    card: SimCard,
    tear: TearPlan,
    removed: bool,
    /// APDU indices (as counted by `counters.apdus`) at which the card is reset.
    resets: std::collections::BTreeSet<u64>,
    /// The card was reset: every transmit reports it until `reconnect`, as PC/SC does.
    reset_pending: bool,
    trace: Vec<(String, String)>,
    counters: Counters,
}

impl SimChannel {
    pub fn new(card: SimCard) -> Self {
        Self {
            card,
            tear: TearPlan::never(),
            removed: false,
            resets: std::collections::BTreeSet::new(),
            reset_pending: false,
            trace: Vec::new(),
            counters: Counters::default(),
        }
    }

    /// Power is lost during the `k`-th APDU that reaches the card (0-based, counted
    /// from the channel's creation; transmits refused while the card is out do not
    /// count). That transmit and every later one fail with
    /// [`TransportError::CardRemoved`] until [`SimChannel::reinsert`].
    pub fn tear_at(&mut self, k: u64) -> &mut Self {
        self.tear.set(Some(k));
        self
    }

    /// Another host resets the card just before the `k`-th APDU that reaches it
    /// (0-based, counted as [`Counters::apdus`]): RAM is gone (selection, write
    /// session), and that transmit and every later one fail with
    /// [`TransportError::CardReset`] until [`CardChannel::reconnect`], as pcsc-lite
    /// answers `SCARD_W_RESET_CARD`. Nothing reaches the card meanwhile.
    pub fn reset_at(&mut self, k: u64) -> &mut Self {
        self.resets.insert(k);
        self
    }

    pub fn clear_fault(&mut self) -> &mut Self {
        self.tear.set(None);
        self.resets.clear();
        self
    }

    /// Puts the card back: it powers up with fresh RAM (no selection, no session).
    pub fn reinsert(&mut self) {
        self.card.power_cycle();
        self.removed = false;
    }

    /// Takes the card out without a torn command.
    pub fn remove(&mut self) {
        self.card.power_cycle();
        self.removed = true;
    }

    pub fn is_removed(&self) -> bool {
        self.removed
    }

    pub fn card(&self) -> &SimCard {
        &self.card
    }

    pub fn card_mut(&mut self) -> &mut SimCard {
        &mut self.card
    }

    pub fn into_card(self) -> SimCard {
        self.card
    }

    /// Every APDU that reached the card, as (command hex, response hex); a torn
    /// command has an empty response.
    pub fn trace(&self) -> &[(String, String)] {
        &self.trace
    }

    /// The trace as text, one `> command` / `< response` pair per APDU.
    pub fn trace_text(&self) -> String {
        self.trace
            .iter()
            .map(|(c, r)| format!("> {c}\n< {r}\n"))
            .collect()
    }

    pub fn clear_trace(&mut self) {
        self.trace.clear();
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }
}

impl CardChannel for SimChannel {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.removed {
            return Err(TransportError::CardRemoved);
        }
        if self.resets.remove(&self.counters.apdus) {
            self.card.power_cycle();
            self.reset_pending = true;
        }
        if self.reset_pending {
            return Err(TransportError::CardReset);
        }
        self.counters.apdus += 1;
        self.counters.bytes_sent += command.len() as u64;
        if self.tear.next_tears() {
            self.removed = true;
            self.trace.push((hex::encode_upper(command), String::new()));
            self.card
                .tear(command)
                .map_err(|e| TransportError::Other(e.to_string()))?;
            return Err(TransportError::CardRemoved);
        }
        let response = self.card.process(command);
        self.counters.bytes_received += response.len() as u64;
        self.trace
            .push((hex::encode_upper(command), hex::encode_upper(&response)));
        Ok(response)
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        if self.removed {
            return Err(TransportError::CardRemoved);
        }
        self.reset_pending = false;
        Ok(())
    }
}
