//! The transport trait every card backend implements: PC/SC (hardware-tests,
//! ecardd), the in-process software card (card-sim) and anything else that can move
//! APDU bytes. Kept deliberately tiny, like openpgp-card's `CardTransaction`: all
//! command logic lives above it in [`crate::channel`] and [`crate::sequences`].

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    /// The card left the reader (pulled out, or the emulator went away).
    #[error("card removed from the reader")]
    CardRemoved,
    /// Another host reset the card: volatile state (selection, write session) is gone.
    #[error("card was reset")]
    CardReset,
    /// The reader holds no card.
    #[error("no card in the reader")]
    NoCard,
    /// The reader or its service (pcscd) is not available.
    #[error("reader unavailable: {0}")]
    ReaderUnavailable(String),
    /// The card did not answer within the operation's deadline (a hung or mute card).
    /// The connection is not used again; the card must be taken out.
    #[error("card did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// Any other failure of the transport, kept as text from the backend.
    #[error("transport failure: {0}")]
    Other(String),
}

/// Moves one command APDU to the card and returns its raw response (data + SW).
pub trait CardChannel {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;

    /// Largest command APDU the reader can carry, when it is known to be limited.
    fn max_command_len(&self) -> Option<usize> {
        None
    }

    /// Re-establishes the connection after [`TransportError::CardReset`]: the card's
    /// RAM (selection, write session) is gone, the caller selects again. A backend
    /// that cannot reconnect reports the reset again.
    fn reconnect(&mut self) -> Result<(), TransportError> {
        Err(TransportError::CardReset)
    }
}

impl<T: CardChannel + ?Sized> CardChannel for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }

    fn max_command_len(&self) -> Option<usize> {
        (**self).max_command_len()
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        (**self).reconnect()
    }
}

impl<T: CardChannel + ?Sized> CardChannel for Box<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }

    fn max_command_len(&self) -> Option<usize> {
        (**self).max_command_len()
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        (**self).reconnect()
    }
}
