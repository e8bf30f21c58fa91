//! Command sequences, written once over [`Link`] and used by the daemon, the tests and
//! the benchmarks alike. [`Card`] is a selected application; [`AdminCard`] is one
//! whose write session was opened with the management key, so a write cannot be
//! called on an unauthenticated card (the types say so, as openpgp-card's do).

mod card;
mod issue;
mod maintenance;
mod personalize;
pub mod piv;
mod selected;
mod verify;

pub use crate::profile::Family;
pub use card::{AdminCard, Card, CardInfo};
pub use issue::{issue, Found, IssueError, IssueJob, IssuedCard};
pub use maintenance::{append_review, set_status, set_status_above, terminate, wipe, StatusChange};
pub use personalize::{personalize, IssueData, Issued};
pub use piv::{PivAdmin, PivCard};
pub use selected::Selected;
pub use verify::{verify, verify_without_photo, PendingPhoto, VerifyContext};

use crate::channel::ChannelError;
use crate::pki::PkiError;
use crate::profile::{FileId, LifeCycle};
use crate::status::Status;
use crate::tlv::TlvError;
use crate::transport::TransportError;
use thiserror::Error;

/// Why a command sequence stopped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardError {
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error("the card has no ecard application")]
    NotAnEcard,
    #[error("unsupported profile version {0}")]
    UnsupportedProfile(u8),
    #[error("malformed {what}: {error}")]
    Malformed { what: &'static str, error: TlvError },
    #[error("{command} refused by the card: {status}")]
    Refused {
        command: &'static str,
        status: Status,
    },
    #[error("card is {found:?}, {command} needs {expected}")]
    WrongLifeCycle {
        command: &'static str,
        expected: &'static str,
        found: LifeCycle,
    },
    #[error("management key rejected, {tries_left} tries left")]
    WrongManagementKey { tries_left: u8 },
    #[error("management key blocked on this card")]
    ManagementKeyBlocked,
    #[error("write refused: no write session")]
    NotAuthenticated,
    #[error("{file:?} content of {len} bytes exceeds its capacity")]
    FileTooLarge { file: FileId, len: usize },
    #[error("card returned an invalid chip public key")]
    BadChipKey,
    /// The card could not prove the chip key on record (INTERNAL AUTHENTICATE over a
    /// fresh challenge): a copy or a fake, never written to.
    #[error("the card cannot prove the chip key on record")]
    NotAuthentic,
    /// The card accepted the management key but could not answer with its own
    /// cryptogram (PROFILE.md §5, mutual authentication): not a card of this bureau.
    #[error("the card cannot prove the management key")]
    ManagementKeyNotProven,
    #[error("signing failed: {0}")]
    Signing(#[from] PkiError),
    #[error("random generator failed")]
    Random,
    /// A PIV card refused every 9B key this bureau could have given it (and, on a
    /// card not yet issued, the factory keys): another system's card.
    #[error("the card refused the PIV card management key (9B)")]
    AdminKeyRejected,
    /// The card keeps the factory 9B key and cannot be given the bureau's (it has no
    /// SET MANAGEMENT KEY): anyone could rewrite it, so it is not issued.
    #[error("the PIV card's management key cannot be changed from the factory key")]
    AdminKeyNotChangeable,
    /// The PIV family runs in the P-256 suite only (docs/PROFILE-PIV.md).
    #[error("PIV cards are not offered for the SM suite")]
    PivSuite,
    #[error("{object} of {len} bytes exceeds its bound")]
    ObjectTooLarge { object: &'static str, len: usize },
    /// The document signer has no X.509 certificate from the root, which the 9E
    /// certificate and the CHUID signature of a PIV card need.
    #[error("the document signer has no X.509 certificate")]
    NoX509Signer,
    #[error("X.509: {0}")]
    X509(String),
}

impl CardError {
    /// The card left the reader during the sequence (as opposed to failing).
    pub fn is_card_removed(&self) -> bool {
        matches!(
            self,
            CardError::Channel(ChannelError::Transport(
                TransportError::CardRemoved | TransportError::NoCard
            ))
        )
    }

    /// The card stopped answering: a command got no answer within the deadline.
    pub fn is_card_timeout(&self) -> bool {
        matches!(
            self,
            CardError::Channel(ChannelError::Transport(TransportError::Timeout(_)))
        )
    }

    /// Maps a non-success status word of `command` to the error a caller can act on.
    pub(crate) fn from_status(command: &'static str, status: Status) -> Self {
        match status {
            Status::SecurityStatusNotSatisfied => CardError::NotAuthenticated,
            Status::RemainingRetries(n) => CardError::WrongManagementKey { tries_left: n },
            Status::AuthenticationBlocked => CardError::ManagementKeyBlocked,
            Status::FileNotFound if command == "SELECT" => CardError::NotAnEcard,
            status => CardError::Refused { command, status },
        }
    }
}

/// The bureau's master key and its document signer must be in one suite: a station
/// configured with an SM signer and an AES master key (or the reverse) is refused
/// before any card is touched, rather than failing halfway through a write.
pub(crate) fn same_suite(
    master: &crate::keys::MasterKey,
    signer: &crate::pki::DocumentSigner,
) -> Result<(), CardError> {
    if master.suite() == signer.certificate.suite {
        Ok(())
    } else {
        Err(CardError::Signing(PkiError::SuiteMismatch))
    }
}
