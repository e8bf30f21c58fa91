//! X.509 and CMS for the PIV card family (#13, docs/PROFILE-PIV.md §3 and §7): the
//! province root and each document signer get X.509 certificates from the same keys
//! as their trust-list anchor and 7F21 certificate, the document signer issues the
//! certificate of a card's Card Authentication key (slot 9E, container 5FC101) and
//! signs the CHUID (5FC102, element 3E) as a detached CMS SignedData. The point is
//! that programs that are not ours (`openssl verify`, `openssl cms`, OpenSC) can
//! check the chain; ecard's own verdict still rests on the trust list.
//!
//! Encoding and decoding go through RustCrypto's `x509-cert`, `cms` and `der`; the
//! signatures are made by [`crate::pki::SigningKey`] (raw r‖s) and carried as DER
//! `Ecdsa-Sig-Value`. P-256 only: the PIV family is not offered for the SM suite, so
//! a key of that suite is [`X509Error::UnsupportedSuite`].
//!
//! The parsers ([`CardAuthCertificate::parse`], [`ChuidSignature::verify`]) read
//! what a hostile card returns: bounded input, no panics, errors as values.

mod build;
mod chuid_cms;
pub(crate) mod ec;
mod error;
mod names;
pub mod oids;
mod parse;
mod raw;
mod validity;

pub use build::{card_auth_certificate, root_certificate, signer_certificate, CardAuthSubject};
pub use chuid_cms::{chuid_signature, ChuidSignature, ChuidSigner};
pub use error::X509Error;
pub use parse::{certificate_issued_by, CardAuthCertificate};

/// The largest certificate or CMS object the parsers read. SP 800-73-4's containers
/// hold at most a few KiB (certificates 1905 bytes, the CHUID 2916); anything much
/// larger is not a PIV object and is refused before decoding.
pub const MAX_DER_LEN: usize = 16 * 1024;

/// A DER certificate as PEM (RFC 7468, "CERTIFICATE", LF line ends): what openssl
/// and the PIV tools read (`ecardd keys root x509`, `keys signer-x509 --out`).
pub fn to_pem(der: &[u8]) -> Result<String, X509Error> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
        .map_err(|e| X509Error::Der(der::Error::from(e)))
}

#[cfg(test)]
mod tests;
