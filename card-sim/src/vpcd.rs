//! The vpcd client: the software card behind vsmartcard's virtual reader driver, so
//! pcscd sees a reader with a card in it (see shared/PCSC.md).
//!
//! Wire protocol (TCP, both directions): 2-byte big-endian length + payload. From
//! vpcd, a 1-byte payload is a control byte (00 power off, 01 power on, 02 reset —
//! no reply — and 04 get ATR, answered with one framed ATR); anything longer is a
//! command APDU, answered with one framed response APDU.
//!
//! Latency: vpcd writes the length and the payload in two writes, so Nagle plus
//! delayed ACK would stall every APDU by ~44 ms. TCP_NODELAY is set once (it stays
//! set) and TCP_QUICKACK before every read (the kernel clears it again by itself).

use crate::atr::atr_of;
use crate::fault::{Silence, SilencePlan, TearPlan};
use crate::state::StateError;
use crate::SimCard;
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use thiserror::Error;

/// Where vpcd's first slot (`Virtual PCD 00 00`) listens.
pub const DEFAULT_VPCD: &str = "127.0.0.1:35963";

const CTRL_POWER_OFF: u8 = 0x00;
const CTRL_POWER_ON: u8 = 0x01;
const CTRL_RESET: u8 = 0x02;
const CTRL_GET_ATR: u8 = 0x04;

#[derive(Debug, Error)]
pub enum VpcdError {
    #[error("cannot connect to vpcd at {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    #[error("cannot set socket option {option}: {source}")]
    SocketOption {
        option: &'static str,
        source: io::Error,
    },
    #[error("vpcd connection failed: {0}")]
    Io(#[from] io::Error),
    #[error("response of {0} bytes does not fit a vpcd frame")]
    FrameTooLong(usize),
    #[error(transparent)]
    State(#[from] StateError),
}

/// How a session with vpcd ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// vpcd closed the connection (or we were asked to stop).
    Closed,
    /// Power was lost mid-command by fault injection; the card is "pulled out".
    Torn,
}

/// Connects to vpcd with TCP_NODELAY set.
pub fn connect(addr: &str) -> Result<TcpStream, VpcdError> {
    let stream = TcpStream::connect(addr).map_err(|source| VpcdError::Connect {
        addr: addr.to_owned(),
        source,
    })?;
    stream
        .set_nodelay(true)
        .map_err(|source| VpcdError::SocketOption {
            option: "TCP_NODELAY",
            source,
        })?;
    Ok(stream)
}

/// Re-arms TCP_QUICKACK so the ACK for vpcd's first write of a frame goes out at once.
fn quickack(stream: &TcpStream) -> Result<(), VpcdError> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    socket2::SockRef::from(stream)
        .set_quickack(true)
        .map_err(|source| VpcdError::SocketOption {
            option: "TCP_QUICKACK",
            source,
        })?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
    Ok(())
}

/// The connection went away: vpcd closed it, or we shut it down to stop.
fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
    )
}

/// Reads one frame; `None` when the connection is closed.
pub fn read_frame(stream: &mut TcpStream) -> Result<Option<Vec<u8>>, VpcdError> {
    quickack(stream)?;
    let mut header = [0u8; 2];
    match stream.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if is_disconnect(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut payload = vec![0u8; u16::from_be_bytes(header) as usize];
    if !payload.is_empty() {
        quickack(stream)?;
        match stream.read_exact(&mut payload) {
            Ok(()) => {}
            Err(e) if is_disconnect(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(payload))
}

/// Writes one frame in a single write, so it leaves in one segment.
pub fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> Result<(), VpcdError> {
    let len = u16::try_from(payload.len()).map_err(|_| VpcdError::FrameTooLong(payload.len()))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)?;
    Ok(())
}

/// Serves vpcd until it closes the connection, or until the APDU that `tear` names:
/// that one is torn (see [`SimCard::tear`]), the state saved, and the session ends
/// without a reply, as when the card is pulled out. From the APDU that `silence`
/// names on, commands are read but not answered ([`Silence::Mute`]: vpcd, and pcscd
/// behind it, wait until the card is pulled) or answered with an empty frame
/// ([`Silence::Empty`]); control bytes are still served.
pub fn serve(
    card: &mut SimCard,
    stream: &mut TcpStream,
    tear: &mut TearPlan,
    silence: &mut SilencePlan,
) -> Result<Ending, VpcdError> {
    loop {
        let Some(frame) = read_frame(stream)? else {
            return Ok(Ending::Closed);
        };
        match frame.as_slice() {
            [] => {}
            // Power off, power on and reset all start the card with fresh RAM.
            [CTRL_POWER_OFF] | [CTRL_POWER_ON] | [CTRL_RESET] => card.power_cycle(),
            [CTRL_GET_ATR] => {
                if let Err(e) = write_frame(stream, &atr_of(card)) {
                    return disconnect_or(e);
                }
            }
            // Unknown control bytes have no reply in the protocol: ignore them.
            [_] => {}
            apdu => {
                match silence.next_silent() {
                    Some(Silence::Mute) => continue,
                    Some(Silence::Empty) => {
                        if let Err(e) = write_frame(stream, &[]) {
                            return disconnect_or(e);
                        }
                        continue;
                    }
                    None => {}
                }
                if tear.next_tears() {
                    card.tear(apdu)?;
                    return Ok(Ending::Torn);
                }
                let response = card.process(apdu);
                if let Err(e) = write_frame(stream, &response) {
                    return disconnect_or(e);
                }
            }
        }
    }
}

fn disconnect_or(e: VpcdError) -> Result<Ending, VpcdError> {
    match e {
        VpcdError::Io(io) if is_disconnect(&io) => Ok(Ending::Closed),
        other => Err(other),
    }
}
