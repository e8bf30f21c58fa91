//! The channel layer: sends [`Command`]s over a [`CardChannel`] and hides the
//! transport's length mechanics from the command sequences. This is the only place
//! that handles GET RESPONSE (61xx), wrong Le (6Cxx), command chaining and the choice
//! between short and extended length.

use crate::apdu::{
    ApduError, Command, Ins, Response, CLA_CHAINING, EXTENDED_MAX_DATA, SHORT_MAX_DATA,
    SHORT_MAX_NE,
};
use crate::status::Status;
use crate::transport::{CardChannel, TransportError};
use thiserror::Error;

/// A response that keeps announcing more data past this size is not an ecard card.
const MAX_RESPONSE: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChannelError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("malformed APDU: {0}")]
    Apdu(#[from] ApduError),
    #[error("card keeps answering 61xx without sending data")]
    GetResponseStalled,
    #[error("response longer than {MAX_RESPONSE} bytes")]
    ResponseTooLong,
    #[error("card answered 6Cxx twice for the same command")]
    WrongLeRepeated,
    #[error("command data of {0} bytes needs extended length or chaining, which the card lacks")]
    DataTooLong(usize),
}

/// What the card announced it can do with long data (FCI tag A5/81, A5/83).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub extended_length: bool,
    pub command_chaining: bool,
    /// Largest data field the card accepts in one command.
    pub max_command_data: usize,
}

impl Capabilities {
    /// What every ISO 7816 card can do: short APDUs, no chaining.
    pub const BASELINE: Capabilities = Capabilities {
        extended_length: false,
        command_chaining: false,
        max_command_data: SHORT_MAX_DATA,
    };

    /// Largest Ne worth asking for in one command.
    pub fn max_ne(&self) -> usize {
        if self.extended_length {
            65_536
        } else {
            SHORT_MAX_NE
        }
    }

    /// Largest data field one command carries.
    pub fn max_data(&self) -> usize {
        if self.extended_length {
            self.max_command_data
                .clamp(SHORT_MAX_DATA, EXTENDED_MAX_DATA)
        } else {
            SHORT_MAX_DATA
        }
    }
}

/// Traffic counters: what benchmarks report and tests assert on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub apdus: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
}

impl Traffic {
    /// The traffic between an earlier reading and this one.
    pub fn since(self, earlier: Traffic) -> Traffic {
        Traffic {
            apdus: self.apdus - earlier.apdus,
            bytes_sent: self.bytes_sent - earlier.bytes_sent,
            bytes_received: self.bytes_received - earlier.bytes_received,
        }
    }
}

/// A card channel plus the card's capabilities and traffic counters.
pub struct Link<C> {
    channel: C,
    caps: Capabilities,
    traffic: Traffic,
    trace: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    /// The last successful SELECT by name: what a reset card is given again.
    selected: Option<Command>,
    /// Resets recovered from so far (at most [`RESETS_RECOVERED`]).
    resets: u32,
}

/// How many card resets one link (one operation) recovers from by reconnecting and
/// selecting again; the next one goes to the caller. As openpgp-card's PC/SC backend:
/// a reset by another host is routine once, a card that keeps resetting is not.
pub const RESETS_RECOVERED: u32 = 1;

impl<C: CardChannel> Link<C> {
    pub fn new(channel: C) -> Self {
        Self {
            channel,
            caps: Capabilities::BASELINE,
            traffic: Traffic::default(),
            trace: None,
            selected: None,
            resets: 0,
        }
    }

    /// Keeps every raw command and response (for docs/PROFILE.md traces and debugging).
    pub fn with_trace(mut self) -> Self {
        self.trace = Some(Vec::new());
        self
    }

    pub fn trace(&self) -> &[(Vec<u8>, Vec<u8>)] {
        self.trace.as_deref().unwrap_or(&[])
    }

    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    /// Set from the card's FCI; the reader's own limit narrows it further.
    pub fn set_capabilities(&mut self, mut caps: Capabilities) {
        if let Some(max) = self.channel.max_command_len() {
            // A reader that cannot carry an extended APDU makes the card's support moot.
            if max < SHORT_MAX_DATA + 6 + 3 {
                caps.extended_length = false;
            } else {
                caps.max_command_data = caps.max_command_data.min(max.saturating_sub(9));
            }
        }
        self.caps = caps;
    }

    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    pub fn into_inner(self) -> C {
        self.channel
    }

    pub fn channel_mut(&mut self) -> &mut C {
        &mut self.channel
    }

    /// Card resets this link recovered from (a write session opened before the
    /// latest one is gone: see `AdminCard`).
    pub fn resets(&self) -> u32 {
        self.resets
    }

    /// Sends one logical command and returns its complete response. Status words other
    /// than 61xx/6Cxx are returned to the caller, who knows what they mean for the command.
    ///
    /// A card reset (`CardReset`) is recovered from once per link: reconnect, SELECT
    /// the application again as last selected, and send the command again. PC/SC
    /// reports the reset before the command reaches the card, so nothing ran twice.
    pub fn send(&mut self, cmd: &Command) -> Result<Response, ChannelError> {
        let result = match self.send_logical(cmd) {
            Err(ChannelError::Transport(TransportError::CardReset))
                if self.resets < RESETS_RECOVERED =>
            {
                self.resets += 1;
                self.channel.reconnect()?;
                if let Some(select) = self.selected.clone().filter(|s| s != cmd) {
                    let resp = self.send_logical(&select)?;
                    if !resp.status.is_success() {
                        // The application is gone after the reset: report the reset.
                        return Err(TransportError::CardReset.into());
                    }
                }
                self.send_logical(cmd)
            }
            other => other,
        };
        if let Ok(resp) = &result {
            if cmd.ins == Ins::Select && cmd.p1 == 0x04 && resp.status.is_success() {
                self.selected = Some(cmd.clone());
            }
        }
        result
    }

    fn send_logical(&mut self, cmd: &Command) -> Result<Response, ChannelError> {
        let mut cmd = cmd.clone();
        if let Some(ne) = cmd.ne {
            // Without extended length ask for what fits; 61xx brings the rest.
            cmd.ne = Some(ne.min(self.caps.max_ne()));
        }
        if cmd.data.len() <= self.caps.max_data() {
            return self.send_collecting(&cmd);
        }
        if !self.caps.command_chaining {
            return Err(ChannelError::DataTooLong(cmd.data.len()));
        }
        let data = std::mem::take(&mut cmd.data);
        let mut links = data.chunks(self.caps.max_data()).peekable();
        while let Some(chunk) = links.next() {
            let last = links.peek().is_none();
            let mut part = cmd.clone();
            part.data = chunk.to_vec();
            if !last {
                part.cla |= CLA_CHAINING;
                part.ne = None;
            }
            let resp = self.send_collecting(&part)?;
            if last || resp.status != Status::Success {
                return Ok(resp);
            }
        }
        // `data` was longer than max_data, so the loop ran and returned.
        Err(ChannelError::DataTooLong(0))
    }

    /// Sends a command and follows 61xx with GET RESPONSE until the card is done.
    fn send_collecting(&mut self, cmd: &Command) -> Result<Response, ChannelError> {
        let mut resp = self.send_fixing_le(cmd)?;
        let mut data = std::mem::take(&mut resp.data);
        while let Status::MoreAvailable(n) = resp.status {
            let ne = if n == 0 { SHORT_MAX_NE } else { n as usize };
            let get = Command::new(Ins::GetResponse).ne(ne);
            resp = self.send_fixing_le(&get)?;
            if resp.data.is_empty() && matches!(resp.status, Status::MoreAvailable(_)) {
                // "6100 with nothing more" must not loop forever.
                return Err(ChannelError::GetResponseStalled);
            }
            data.append(&mut resp.data);
            if data.len() > MAX_RESPONSE {
                return Err(ChannelError::ResponseTooLong);
            }
        }
        resp.data = data;
        Ok(resp)
    }

    /// Sends a command once, and once more with the right Le if the card says 6Cxx.
    fn send_fixing_le(&mut self, cmd: &Command) -> Result<Response, ChannelError> {
        let resp = self.transmit(cmd)?;
        let Status::WrongLe(n) = resp.status else {
            return Ok(resp);
        };
        let mut again = cmd.clone();
        again.ne = Some(if n == 0 { SHORT_MAX_NE } else { n as usize });
        let resp = self.transmit(&again)?;
        if let Status::WrongLe(_) = resp.status {
            return Err(ChannelError::WrongLeRepeated);
        }
        Ok(resp)
    }

    fn transmit(&mut self, cmd: &Command) -> Result<Response, ChannelError> {
        let bytes = cmd.encode(self.caps.extended_length)?;
        self.traffic.apdus += 1;
        self.traffic.bytes_sent += bytes.len();
        let raw = self.channel.transmit(&bytes)?;
        self.traffic.bytes_received += raw.len();
        if let Some(trace) = self.trace.as_mut() {
            trace.push((bytes, raw.clone()));
        }
        // A response without a status word means the card went away mid-command.
        Response::parse(&raw).map_err(|_| ChannelError::Transport(TransportError::CardRemoved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A scripted card: answers each command with the next canned response and
    /// records the commands it saw.
    struct Script {
        replies: VecDeque<Vec<u8>>,
        seen: Vec<Vec<u8>>,
    }

    impl Script {
        fn new(replies: &[&str]) -> Self {
            Self {
                replies: replies.iter().map(|r| hex::decode(r).unwrap()).collect(),
                seen: Vec::new(),
            }
        }
    }

    impl CardChannel for Script {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.seen.push(command.to_vec());
            self.replies.pop_front().ok_or(TransportError::CardRemoved)
        }
    }

    #[test]
    fn get_response_collects_every_part() {
        let mut link = Link::new(Script::new(&["aabb6102", "ccdd6101", "ee9000"]));
        let resp = link.send(&Command::new(Ins::ReadRecord).ne(256)).unwrap();
        assert_eq!(resp, Response::ok(vec![0xaa, 0xbb, 0xcc, 0xdd, 0xee]));
        let seen = &link.channel.seen;
        assert_eq!(seen[1], [0x00, 0xC0, 0x00, 0x00, 0x02]);
        assert_eq!(seen[2], [0x00, 0xC0, 0x00, 0x00, 0x01]);
        assert_eq!(link.traffic().apdus, 3);
    }

    #[test]
    fn empty_6100_does_not_loop_forever() {
        let mut link = Link::new(Script::new(&["6100", "6100", "6100"]));
        assert_eq!(
            link.send(&Command::new(Ins::ReadRecord).ne(256)),
            Err(ChannelError::GetResponseStalled)
        );
    }

    #[test]
    fn wrong_le_is_resent_once_with_the_exact_length() {
        let mut link = Link::new(Script::new(&["6C05", "0102030405" /* no SW yet */]));
        link.channel.replies[1].extend_from_slice(&[0x90, 0x00]);
        let resp = link
            .send(&Command::new(Ins::ReadBinary).p1(0x81).ne(256))
            .unwrap();
        assert_eq!(resp.data, [1, 2, 3, 4, 5]);
        assert_eq!(link.channel.seen[1], [0x00, 0xB0, 0x81, 0x00, 0x05]);

        let mut link = Link::new(Script::new(&["6C05", "6C05"]));
        assert_eq!(
            link.send(&Command::new(Ins::ReadBinary).ne(256)),
            Err(ChannelError::WrongLeRepeated)
        );
    }

    #[test]
    fn long_data_is_chained_without_extended_length() {
        let mut link = Link::new(Script::new(&["9000", "9000"]));
        link.set_capabilities(Capabilities {
            command_chaining: true,
            ..Capabilities::BASELINE
        });
        link.send(&Command::new(Ins::UpdateBinary).p1(0x83).data(vec![7; 300]))
            .unwrap();
        let seen = &link.channel.seen;
        assert_eq!(&seen[0][..5], &[0x10, 0xD6, 0x83, 0x00, 0xFF]);
        assert_eq!(&seen[1][..5], &[0x00, 0xD6, 0x83, 0x00, 45]);
    }

    #[test]
    fn long_data_uses_one_extended_apdu_when_announced() {
        let mut link = Link::new(Script::new(&["9000"]));
        link.set_capabilities(Capabilities {
            extended_length: true,
            command_chaining: true,
            max_command_data: 65_535,
        });
        link.send(&Command::new(Ins::UpdateBinary).data(vec![7; 300]))
            .unwrap();
        assert_eq!(&link.channel.seen[0][4..7], &[0x00, 0x01, 0x2C]);
    }

    #[test]
    fn short_response_is_card_removal_not_success() {
        let mut link = Link::new(Script::new(&[""]));
        assert_eq!(
            link.send(&Command::new(Ins::Select)),
            Err(ChannelError::Transport(TransportError::CardRemoved))
        );
    }

    #[test]
    fn long_data_without_chaining_or_extended_is_refused() {
        let mut link = Link::new(Script::new(&[]));
        assert_eq!(
            link.send(&Command::new(Ins::UpdateBinary).data(vec![0; 256])),
            Err(ChannelError::DataTooLong(256))
        );
    }
}
