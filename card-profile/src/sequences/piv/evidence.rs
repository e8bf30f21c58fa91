//! What a PIV card proves beyond the checks both families share: its CHUID (the
//! GUID the serial comes from) is signed by the signer of the security object, and
//! its Card Authentication certificate (5FC101) was issued by that signer for the
//! chip key the security object names — the two things an outside PIV tool checks.

use super::card::PivCard;
use crate::piv::{objects, Container};
use crate::profile::LifeCycle;
use crate::sequences::selected::FamilyEvidence;
use crate::sequences::CardError;
use crate::sod::SecurityObject;
use crate::transport::CardChannel;
use crate::verdict::Finding;
use crate::x509::{CardAuthCertificate, ChuidSignature};

pub(crate) fn evidence<C: CardChannel>(
    card: &mut PivCard<'_, C>,
    sod: Option<&SecurityObject>,
) -> Result<FamilyEvidence, CardError> {
    let mut found = FamilyEvidence::default();
    let terminated = card.info().life_cycle == LifeCycle::Terminated;
    // A terminated card's certificate was deleted on purpose: not read, not missed.
    let certificate = if terminated {
        None
    } else {
        let value = card.load(Container::CardAuthCertificate)?.to_vec();
        objects::certificate_from_container(&value)
            .ok()
            .and_then(|der| CardAuthCertificate::parse(der).ok())
    };
    let Some(sod) = sod else {
        // No ecard security object: a PIV card ecard did not issue. Say whose it is
        // when its certificate tells.
        if card.info().life_cycle == LifeCycle::Blank {
            found.issuer = certificate.map(|c| Finding::UnknownIssuer { issuer: c.issuer });
        }
        return Ok(found);
    };
    let signer_key = &sod.signed.signer.public_key;
    let chuid_signed = card.chuid().is_some_and(|chuid| {
        !chuid.signature.is_empty()
            && ChuidSignature::verify(&chuid.signature, &chuid.signed_content)
                .is_ok_and(|s| s.public_key == *signer_key)
    });
    if !chuid_signed {
        found.serial_binding = Some(Finding::ChuidInvalid);
    }
    if !terminated {
        let genuine = certificate
            .is_some_and(|c| c.chip_key == sod.chip_key && c.verify_issued_by(signer_key));
        if !genuine {
            found.chip_certificate = Some(Finding::ChipCertificateInvalid);
        }
    }
    Ok(found)
}
