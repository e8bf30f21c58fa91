//! The card face's visible digital seal (issue: "a signed QR that anyone can check
//! without a reader"; docs/SEAL.md). A seal is a COSE_Sign1 (ES256, the bureau's
//! document signer) over a small CBOR payload, written as `EC1:` + base45 so that a
//! QR code stores it in alphanumeric mode, and sized to fit a version-10 code at
//! error-correction level M.
//!
//! A printed seal says what was true when the card was made. It cannot say that a
//! certificate was later suspended, cancelled or missed its annual review: the
//! checker says so (`Verdict::printed_only`), and asks the registry when online.

pub mod base45;
mod cbor;
pub mod cose;
pub mod payload;
mod qr;

pub use base45::Base45Error;
pub use payload::{PayloadError, SealPayload, PHOTO_HASH_LEN};
pub use qr::{qr_code, qr_modules, qr_svg, MAX_QR_VERSION};

use card_profile::pki::{
    key_id, verify_signature, ChainError, DocumentSigner, PkiError, SignerCertificate, TrustList,
};
use chrono::NaiveDate;
use cose::{CoseError, Sign1, KID_LEN};
use thiserror::Error;

/// What every seal's text starts with: the format and its version. Alphanumeric.
pub const PREFIX: &str = "EC1:";
/// Longer text is refused before decoding (a version-10 code holds 311 characters).
pub const MAX_TEXT: usize = 400;

#[derive(Debug, Error)]
pub enum IssueError {
    #[error("签章数据过长，超出 {MAX_QR_VERSION} 版二维码容量（单位或姓名过长）")]
    TooLarge,
    #[error("签名失败：{0}")]
    Signing(#[from] PkiError),
    /// COSE registers no SM2 algorithm and WebCrypto has none, so a seal is ES256
    /// only; an SM-suite bureau gets this instead of a seal no checker could read
    /// (docs/SUITES.md).
    #[error("国密（SM2）签发机关暂不能签发卡面二维码：二维码签章目前只支持 ECDSA P-256")]
    SuiteUnsupported,
}

/// Signs `payload` with the document signer and returns the seal's text.
pub fn issue(payload: &SealPayload, signer: &DocumentSigner) -> Result<String, IssueError> {
    if signer.certificate.suite != card_profile::suite::Suite::P256 {
        return Err(IssueError::SuiteUnsupported);
    }
    let protected = cose::protected_header(kid_of(&signer.certificate));
    let payload_bytes = payload.to_cbor();
    let signature = signer
        .key
        .sign(&cose::to_be_signed(&protected, &payload_bytes))?;
    let sign1 = Sign1 {
        protected,
        kid: kid_of(&signer.certificate),
        payload: payload_bytes,
        signature,
    };
    let text = format!("{PREFIX}{}", base45::encode(&sign1.to_cbor()));
    qr_code(&text).map_err(|_| IssueError::TooLarge)?;
    Ok(text)
}

fn kid_of(cert: &SignerCertificate) -> [u8; KID_LEN] {
    let mut kid = [0u8; KID_LEN];
    kid.copy_from_slice(&key_id(&cert.public_key)[..KID_LEN]);
    kid
}

/// Whether the certificate's printed dates cover the day of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    NotYetValid,
    Expired,
}

/// Why a seal is not genuine.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Forgery {
    #[error("base45: {0}")]
    Base45(#[from] Base45Error),
    #[error("COSE: {0}")]
    Cose(#[from] CoseError),
    #[error("payload: {0}")]
    Payload(#[from] PayloadError),
    #[error("the signature does not verify under the signer it names")]
    BadSignature,
    #[error("signer: {0}")]
    Chain(ChainError),
}

/// Why a seal can be neither confirmed nor refuted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Unconfirmed {
    #[error("signed by a document signer this checker does not know (kid {0})")]
    UnknownSigner(String),
    #[error("the signer's certificate names a root this checker does not trust")]
    UnknownRoot,
}

/// The answer to "is this seal genuine?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by a known document signer that chains to a trusted root.
    Genuine {
        payload: SealPayload,
        signer: String,
        validity: Validity,
    },
    /// Claims to be a seal and is not one: changed, re-signed or malformed.
    Forged(Forgery),
    /// A well-formed seal from a signer outside this checker's lists.
    Unconfirmed(Unconfirmed),
    /// Not an ecard seal at all (another QR code).
    NotASeal,
}

impl Verdict {
    /// Stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Genuine { .. } => "genuine",
            Verdict::Forged(_) => "forged",
            Verdict::Unconfirmed(_) => "unconfirmed",
            Verdict::NotASeal => "not_a_seal",
        }
    }

    /// The word a person reads.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Verdict::Genuine { .. } => "真实",
            Verdict::Forged(_) => "伪造",
            Verdict::Unconfirmed(_) => "无法确认",
            Verdict::NotASeal => "不是执法证二维码",
        }
    }

    /// What a printed seal can never say, shown beside every genuine verdict.
    pub fn printed_only() -> &'static str {
        "二维码只能证明制证时的信息；证件此后是否被暂停、注销或未通过年审，须联网向登记中心查询或用读卡器验证芯片"
    }
}

/// The signer's key id a seal's text names (its COSE kid), when the text parses
/// that far: what a checker holding many signers looks them up by. Nothing is
/// verified.
pub fn named_kid(text: &str) -> Option<[u8; KID_LEN]> {
    let text = text.trim();
    if text.len() > MAX_TEXT {
        return None;
    }
    let body = text.strip_prefix(PREFIX)?;
    let sign1 = Sign1::from_cbor(&base45::decode(body).ok()?).ok()?;
    Some(sign1.kid)
}

/// Checks a seal's text: signature, signer chain (on the day the seal was issued),
/// then the printed dates against `today`.
pub fn check(
    text: &str,
    trust: &TrustList,
    signers: &[SignerCertificate],
    today: NaiveDate,
) -> Verdict {
    let text = text.trim();
    let Some(body) = text.strip_prefix(PREFIX) else {
        return Verdict::NotASeal;
    };
    if text.len() > MAX_TEXT {
        return Verdict::Forged(Forgery::Payload(PayloadError::Shape));
    }
    match check_body(body, trust, signers, today) {
        Ok(v) => v,
        Err(f) => Verdict::Forged(f),
    }
}

fn check_body(
    body: &str,
    trust: &TrustList,
    signers: &[SignerCertificate],
    today: NaiveDate,
) -> Result<Verdict, Forgery> {
    let sign1 = Sign1::from_cbor(&base45::decode(body)?)?;
    let to_be_signed = cose::to_be_signed(&sign1.protected, &sign1.payload);
    let mut named = signers.iter().filter(|c| kid_of(c) == sign1.kid).peekable();
    if named.peek().is_none() {
        return Ok(Verdict::Unconfirmed(Unconfirmed::UnknownSigner(
            hex::encode(sign1.kid),
        )));
    }
    let cert = named
        .find(|c| verify_signature(&c.public_key, &to_be_signed, &sign1.signature))
        .ok_or(Forgery::BadSignature)?;
    let payload = SealPayload::from_cbor(&sign1.payload)?;
    match trust.check_signer(cert, payload.issued_on) {
        Ok(_) => {}
        Err(ChainError::UnknownIssuer) => {
            return Ok(Verdict::Unconfirmed(Unconfirmed::UnknownRoot))
        }
        Err(e) => return Err(Forgery::Chain(e)),
    }
    let validity = if today < payload.valid_from {
        Validity::NotYetValid
    } else if today > payload.valid_until {
        Validity::Expired
    } else {
        Validity::Valid
    };
    Ok(Verdict::Genuine {
        signer: cert.subject.clone(),
        payload,
        validity,
    })
}
