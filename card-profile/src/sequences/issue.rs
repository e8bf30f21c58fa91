//! Issuance at a station: one card through personalization, or an interrupted one
//! through its resumption, then read back and checked against the station's own trust
//! list. The station records which card it is writing before the first write; that is
//! the `claim` step the caller supplies, so the card steps stay here and the records
//! stay with the caller.

use super::{personalize, verify, CardError, CardInfo, IssueData, Selected, VerifyContext};
use crate::channel::Link;
use crate::keys::{MasterKey, Serial};
use crate::pki::{DocumentSigner, PublicKey};
use crate::profile::{FileId, LifeCycle};
use crate::sod::SecurityObject;
use crate::transport::CardChannel;
use crate::verdict::Verdict;
use chrono::NaiveDate;

/// What an issuance needs besides the card.
pub struct IssueJob<'a> {
    pub data: &'a IssueData,
    pub master: &'a MasterKey,
    pub signer: &'a DocumentSigner,
    pub today: NaiveDate,
    /// The serial this job recorded before an interruption, if any: only that card,
    /// already activated, is taken as finished instead of refused as not blank.
    pub previous_serial: Option<Serial>,
    /// The checks the written card must pass (the station's own trust list).
    pub verify: &'a VerifyContext<'a>,
}

/// A card the job found and is about to write (or to finish without writing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub info: CardInfo,
    /// The job's own card, already activated before the interruption.
    pub resumed: bool,
}

/// What the card now holds, for the issuer's records.
#[derive(Debug, Clone)]
pub struct IssuedCard {
    pub serial: Serial,
    pub chip_key: PublicKey,
    pub sod: Vec<u8>,
    pub verdict: Verdict,
    pub resumed: bool,
}

/// Why issuance stopped. `E` is the caller's claim error.
#[derive(Debug)]
pub enum IssueError<E> {
    Card(CardError),
    /// The card is neither blank, nor half written, nor the job's own finished card.
    NotBlank,
    /// The job's own serial, activated, holds another certificate.
    WrongCard,
    /// The caller refused the card (or could not record it).
    Claim(E),
}

impl<E> From<CardError> for IssueError<E> {
    fn from(e: CardError) -> Self {
        IssueError::Card(e)
    }
}

/// Selects the card, decides whether it is new or the job's own finished card, has
/// it prove its keys, lets `claim` record it (nothing has been written yet), wipes a
/// half-written card, personalizes, and reads the card back through `job.verify`.
pub fn issue<C: CardChannel, E>(
    link: &mut Link<C>,
    job: &IssueJob<'_>,
    claim: impl FnOnce(&Found) -> Result<(), E>,
) -> Result<IssuedCard, IssueError<E>> {
    let mut card = match Selected::select(link)? {
        Selected::Native(card) => card,
        Selected::Piv(card) => return super::piv::issue(card, job, claim),
    };
    let info = *card.info();
    let resumed = match info.life_cycle {
        LifeCycle::Blank | LifeCycle::Personalizing => false,
        LifeCycle::Activated if job.previous_serial == Some(info.serial) => true,
        _ => return Err(IssueError::NotBlank),
    };
    let found = Found { info, resumed };
    let (sod, chip_key) = if resumed {
        // The job's own card, finished before the interruption: it must hold the chip
        // key its EF.SOD names. A card that only copies the data is refused before
        // anything is recorded of it (else it would fail the check below and have the
        // genuine card's serial voided).
        let sod = card.read_file(FileId::Sod)?;
        let chip_key = chip_key_of(&sod)?;
        card.prove_chip(job.signer.certificate.suite, &chip_key)?;
        claim(&found).map_err(IssueError::Claim)?;
        (sod, chip_key)
    } else {
        // The card proves the management key of the serial it presents (mutual
        // authentication) before that serial is recorded: a job records only a
        // serial whose card is one of this bureau's, so a fake presenting another
        // card's serial can never have that card voided.
        let mut admin = card.authenticate(&job.master.derive(&info.serial))?;
        claim(&found).map_err(IssueError::Claim)?;
        if info.life_cycle == LifeCycle::Personalizing {
            admin.wipe()?;
        }
        // Personalization returns the chip key it generated: no need to parse it
        // back out of the security object it just signed.
        let issued = personalize(link, job.data, job.master, job.signer, job.today)?;
        (issued.sod, issued.chip_key)
    };
    let (verdict, _) = verify(link, job.verify)?;
    if resumed
        && verdict.certificate.as_ref().map(|c| &c.number) != Some(&job.data.certificate.number)
    {
        return Err(IssueError::WrongCard);
    }
    Ok(IssuedCard {
        serial: info.serial,
        chip_key,
        sod,
        verdict,
        resumed,
    })
}

fn chip_key_of(sod: &[u8]) -> Result<PublicKey, CardError> {
    SecurityObject::parse(sod)
        .map(|s| s.chip_key)
        .map_err(|error| CardError::Malformed {
            what: "EF.SOD",
            error,
        })
}
