//! Either family, selected: the native application when it answers SELECT, else the
//! PIV application (docs/PROFILE-PIV.md §1). Verification and the checks before a
//! write read the card through [`Application`], written once for both.

use super::card::ChipCheck;
use super::piv::PivCard;
use super::{Card, CardError, CardInfo};
use crate::channel::Link;
use crate::keys::Serial;
use crate::pki::PublicKey;
use crate::profile::{Family, FileId};
use crate::sod::SecurityObject;
use crate::suite::Suite;
use crate::transport::CardChannel;
use crate::verdict::Finding;

/// What the verification reads, on either family.
pub(crate) trait Application {
    fn info(&self) -> &CardInfo;
    fn read_file(&mut self, file: FileId) -> Result<Vec<u8>, CardError>;
    fn read_records(&mut self, file: FileId) -> Result<Vec<Vec<u8>>, CardError>;
    /// The chip key's signature over a fresh challenge, checked.
    fn chip_check(&mut self, suite: Suite, chip_key: &PublicKey) -> Result<ChipCheck, CardError>;
    /// What the family adds to the checks (PIV: the CHUID's signature, the 9E
    /// certificate). `sod` is the security object when it parsed.
    fn family_evidence(
        &mut self,
        sod: Option<&SecurityObject>,
    ) -> Result<FamilyEvidence, CardError>;
}

/// Findings of the family's own checks; `None` where they passed or do not apply.
#[derive(Debug, Default)]
pub(crate) struct FamilyEvidence {
    /// Against [`crate::verdict::CheckKind::SerialBinding`].
    pub serial_binding: Option<Finding>,
    /// Against [`crate::verdict::CheckKind::ChipAuthentication`].
    pub chip_certificate: Option<Finding>,
    /// Against [`crate::verdict::CheckKind::SignerChain`] on a card without a
    /// security object: who did issue it, when it says.
    pub issuer: Option<Finding>,
}

impl<C: CardChannel> Application for Card<'_, C> {
    fn info(&self) -> &CardInfo {
        Card::info(self)
    }
    fn read_file(&mut self, file: FileId) -> Result<Vec<u8>, CardError> {
        Card::read_file(self, file)
    }
    fn read_records(&mut self, file: FileId) -> Result<Vec<Vec<u8>>, CardError> {
        Card::read_records(self, file)
    }
    fn chip_check(&mut self, suite: Suite, chip_key: &PublicKey) -> Result<ChipCheck, CardError> {
        Card::chip_check(self, suite, chip_key)
    }
    fn family_evidence(&mut self, _: Option<&SecurityObject>) -> Result<FamilyEvidence, CardError> {
        Ok(FamilyEvidence::default())
    }
}

impl<C: CardChannel> Application for PivCard<'_, C> {
    fn info(&self) -> &CardInfo {
        PivCard::info(self)
    }
    fn read_file(&mut self, file: FileId) -> Result<Vec<u8>, CardError> {
        PivCard::read_file(self, file)
    }
    fn read_records(&mut self, file: FileId) -> Result<Vec<Vec<u8>>, CardError> {
        PivCard::read_records(self, file)
    }
    fn chip_check(&mut self, _: Suite, chip_key: &PublicKey) -> Result<ChipCheck, CardError> {
        PivCard::chip_check(self, chip_key)
    }
    fn family_evidence(
        &mut self,
        sod: Option<&SecurityObject>,
    ) -> Result<FamilyEvidence, CardError> {
        super::piv::evidence(self, sod)
    }
}

/// A selected card of either family.
pub enum Selected<'l, C> {
    Native(Card<'l, C>),
    Piv(PivCard<'l, C>),
}

impl<'l, C: CardChannel> Selected<'l, C> {
    /// SELECTs the native application; a card without it (6A82) is asked for PIV.
    /// Neither: [`CardError::NotAnEcard`].
    pub fn select(link: &'l mut Link<C>) -> Result<Self, CardError> {
        let resp = link.send(&Card::<C>::select_command())?;
        if resp.status == crate::status::Status::FileNotFound {
            return PivCard::select(link).map(Selected::Piv);
        }
        Card::adopt(link, resp).map(Selected::Native)
    }

    pub fn info(&self) -> &CardInfo {
        match self {
            Selected::Native(c) => c.info(),
            Selected::Piv(c) => c.info(),
        }
    }

    pub fn family(&self) -> Family {
        self.info().family
    }

    pub fn serial(&self) -> Serial {
        self.info().serial
    }

    pub fn link(&mut self) -> &mut Link<C> {
        match self {
            Selected::Native(c) => c.link(),
            Selected::Piv(c) => c.link(),
        }
    }

    /// Proves the card holds `chip_key` (a fresh challenge signed): see
    /// [`Card::prove_chip`].
    pub fn prove_chip(&mut self, suite: Suite, chip_key: &PublicKey) -> Result<(), CardError> {
        match self {
            Selected::Native(c) => c.prove_chip(suite, chip_key),
            Selected::Piv(c) => c.prove_chip(chip_key),
        }
    }
}

impl<C: CardChannel> Application for Selected<'_, C> {
    fn info(&self) -> &CardInfo {
        Selected::info(self)
    }
    fn read_file(&mut self, file: FileId) -> Result<Vec<u8>, CardError> {
        match self {
            Selected::Native(c) => c.read_file(file),
            Selected::Piv(c) => c.read_file(file),
        }
    }
    fn read_records(&mut self, file: FileId) -> Result<Vec<Vec<u8>>, CardError> {
        match self {
            Selected::Native(c) => c.read_records(file),
            Selected::Piv(c) => c.read_records(file),
        }
    }
    fn chip_check(&mut self, suite: Suite, chip_key: &PublicKey) -> Result<ChipCheck, CardError> {
        match self {
            Selected::Native(c) => c.chip_check(suite, chip_key),
            Selected::Piv(c) => c.chip_check(chip_key),
        }
    }
    fn family_evidence(
        &mut self,
        sod: Option<&SecurityObject>,
    ) -> Result<FamilyEvidence, CardError> {
        match self {
            Selected::Native(c) => Application::family_evidence(c, sod),
            Selected::Piv(c) => Application::family_evidence(c, sod),
        }
    }
}
