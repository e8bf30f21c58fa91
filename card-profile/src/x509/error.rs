use chrono::NaiveDate;
use thiserror::Error;

/// Why a certificate or CMS object could not be built or does not check.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum X509Error {
    /// The key is of the SM suite: the PIV family runs on P-256 only.
    #[error("X.509 for PIV cards is P-256 only; the key is of another algorithm suite")]
    UnsupportedSuite,
    /// The bytes are not the DER the structure needs (or could not be encoded).
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// A public key in a certificate is not an uncompressed P-256 point with
    /// id-ecPublicKey / prime256v1.
    #[error("the certificate's key is not a P-256 public key")]
    NotP256Key,
    /// A certificate was paired with a private key it does not certify.
    #[error("the certificate is for another key")]
    WrongKey,
    /// The signer certificate names another root as its issuer.
    #[error("the certificate was not issued by this key")]
    NotIssuedBy,
    #[error("the signature does not verify")]
    BadSignature,
    /// The CMS messageDigest attribute is not the hash of the signed content.
    #[error("the signed digest is not the content's")]
    DigestMismatch,
    #[error("expired on {until} (checked on {on})")]
    Expired { until: NaiveDate, on: NaiveDate },
    #[error("not valid before {from} (checked on {on})")]
    NotYetValid { from: NaiveDate, on: NaiveDate },
}
