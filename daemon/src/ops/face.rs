//! The printed card face and its signed QR (issue #16; docs/CARD-FACE.md,
//! docs/SEAL.md): a certificate's face is rendered from the records with a seal the
//! station's document signer makes at that moment; a scanned seal is checked against
//! this station's trust list.

use card_face::{CardFace, FaceError};
use card_seal::{SealPayload, Verdict};
use serde::Serialize;
use thiserror::Error;

use super::{OpError, Station};
use crate::keyring;
use crate::labels;
use crate::store::{self, CardState};
use card_profile::pki::SignerCertificate;

/// Why no face could be made.
#[derive(Debug, Error)]
pub enum FaceProblem {
    #[error("the certificate has no live card")]
    NoLiveCard,
    #[error("the seal does not fit a version-10 QR code")]
    SealTooLarge,
    #[error("the card-face font {path} cannot be read: {error}")]
    FontMissing { path: String, error: String },
    #[error("rendering failed: {0}")]
    Render(String),
    /// The station runs the SM suite; the printed seal is ES256 only (docs/SUITES.md).
    #[error("the printed seal has no SM2 form")]
    SealSuite,
}

impl FaceProblem {
    pub fn code(&self) -> &'static str {
        match self {
            FaceProblem::NoLiveCard => "no_live_card",
            FaceProblem::SealTooLarge => "seal_too_large",
            FaceProblem::FontMissing { .. } => "face_font_missing",
            FaceProblem::Render(_) => "face_render_failed",
            FaceProblem::SealSuite => "seal_suite_unsupported",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            FaceProblem::NoLiveCard => {
                "该证件没有在用的卡片（尚未写卡，或已暂停、注销），不能制作卡面".into()
            }
            FaceProblem::SealTooLarge => {
                "执法单位或姓名过长，二维码放不下（最多约 25 个汉字的单位名称）".into()
            }
            FaceProblem::FontMissing { path, .. } => {
                format!("找不到卡面字体 {path}（请安装 fonts-wqy-microhei）")
            }
            FaceProblem::Render(_) => "卡面生成失败".into(),
            FaceProblem::SealSuite => {
                "本站使用国密算法（SM2），卡面二维码签章目前只支持 ECDSA P-256，暂不能打印带二维码的卡面"
                    .into()
            }
        }
    }
}

/// A scanned seal's verdict, as the API and the CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct SealCheckView {
    /// `genuine`, `forged`, `unconfirmed`, `not_a_seal`.
    pub verdict: &'static str,
    /// 真实 / 伪造 / 无法确认 / 不是执法证二维码.
    pub verdict_label: &'static str,
    /// `valid`, `not_yet_valid`, `expired` (genuine seals only).
    pub validity: Option<&'static str>,
    pub validity_label: Option<&'static str>,
    /// Why it is forged or unconfirmed (for the log and the curious; not a label).
    pub detail: Option<String>,
    pub printed: Option<PrintedFacts>,
    /// What a printed seal cannot say (always shown with a genuine verdict).
    pub note: Option<&'static str>,
    /// The card the seal names is on this station's void list (a face printed
    /// before its chip write failed, print-and-encode): the seal is genuine, the card
    /// is not to be accepted. Only what this station knows; `false` says nothing.
    pub card_voided: bool,
    pub card_voided_label: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrintedFacts {
    pub number: String,
    pub name: String,
    pub unit: String,
    pub kind_label: &'static str,
    pub valid_from: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    pub issued_on: chrono::NaiveDate,
    pub card_serial: String,
    pub signer: String,
}

/// `scheme://host[:port]` of the registry URL, or `None` for anything else: it goes
/// into a CSP header and a `fetch`, so only the characters a host and port use pass.
pub fn registry_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    (!authority.is_empty() && authority.len() <= 255 && authority.chars().all(allowed))
        .then(|| format!("{scheme}://{authority}"))
}

impl Station {
    /// The registry origin the `/check` page asks (issue #16): the one configured for
    /// phones (`--public-registry-url`), else the one this station is enrolled with;
    /// `None` when neither (the page then only checks offline).
    pub fn public_registry_origin(&self) -> Option<String> {
        if let Some(url) = &self.config.public_registry_url {
            return registry_origin(url);
        }
        self.store
            .read(crate::store::sync_identity)
            .ok()
            .flatten()
            .and_then(|id| registry_origin(&id.registry_url))
    }

    /// The seal for a certificate's live card, signed today by this station's
    /// document signer (docs/SEAL.md): the text the face's QR code holds.
    pub fn seal_text(&self, certificate_id: i64) -> Result<String, OpError> {
        Ok(self.face_parts(certificate_id)?.1)
    }

    /// The record and a fresh seal for its live card.
    fn face_parts(
        &self,
        certificate_id: i64,
    ) -> Result<(card_profile::sequences::IssueData, String), OpError> {
        self.keys()?;
        let (data, cards) = self.store.read(|c| {
            Ok((
                store::issue_data(c, certificate_id)?,
                store::cards_of_certificate(c, certificate_id)?,
            ))
        })?;
        let card = cards
            .iter()
            .rev()
            .find(|card| card.state == CardState::Live && !card.terminated)
            .ok_or(OpError::Face(FaceProblem::NoLiveCard))?;
        let serial = super::issue::parse_serial(&card.serial)
            .ok_or(OpError::Invalid(super::invalid::Invalid::StoredSerial))?;
        let seal = self.seal_for(&data, serial)?;
        Ok((data, seal))
    }

    /// A seal over `data` for the card with `serial`, signed today.
    fn seal_for(
        &self,
        data: &card_profile::sequences::IssueData,
        serial: card_profile::keys::Serial,
    ) -> Result<String, OpError> {
        let keys = self.keys()?;
        let cert = &data.certificate;
        card_seal::issue(
            &SealPayload {
                number: cert.number.to_string(),
                name: data.holder.name.clone(),
                unit: cert.unit.clone(),
                kind: cert.kind,
                valid_from: cert.valid_from,
                valid_until: cert.valid_until,
                issued_on: self.today(),
                card_serial: serial,
                photo_hash: SealPayload::photo_hash_of(&data.photo_jpeg),
            },
            &keys.signer,
        )
        .map_err(|e| match e {
            card_seal::IssueError::TooLarge => OpError::Face(FaceProblem::SealTooLarge),
            card_seal::IssueError::Signing(e) => OpError::Face(FaceProblem::Render(e.to_string())),
            card_seal::IssueError::SuiteUnsupported => OpError::Face(FaceProblem::SealSuite),
        })
    }

    /// The face (front and back) of a certificate's live card as PDF, with a seal
    /// signed today by this station's document signer.
    pub fn card_face(&self, certificate_id: i64) -> Result<Vec<u8>, OpError> {
        self.card_face_and_seal(certificate_id).map(|(pdf, _)| pdf)
    }

    /// [`Station::card_face`] and the seal text its QR code holds.
    pub fn card_face_and_seal(&self, certificate_id: i64) -> Result<(Vec<u8>, String), OpError> {
        let (data, seal) = self.face_parts(certificate_id)?;
        let pdf = render_pdf(&data, seal.clone())?;
        Ok((pdf, seal))
    }

    /// The face of the card with `serial` carrying `data` (the certificate's issue
    /// data), with a seal signed today. Print-first printing calls this before the
    /// chip is written: the serial is the blank card's, read at the encoder.
    pub(super) fn render_face(
        &self,
        data: &card_profile::sequences::IssueData,
        serial: card_profile::keys::Serial,
    ) -> Result<Vec<u8>, OpError> {
        render_pdf(data, self.seal_for(data, serial)?)
    }

    /// The document signers a seal may name at this station: its own, and every
    /// other bureau's the registry's feed brought (issue #16), each only when a root
    /// of the station's trust list signed it. Dates and the province's revoked
    /// signers are the seal check's, on the day the seal was signed.
    pub fn seal_signers(&self) -> Vec<SignerCertificate> {
        let trust = self.trust_list();
        // Its own, also when the keys stay locked (a verify-only start): the
        // certificate is public and stored beside the sealed key.
        let own = match self.keys() {
            Ok(k) => Some(k.signer.certificate.clone()),
            Err(_) => keyring::own_signer_certificate(&self.store).ok().flatten(),
        };
        let mut out: Vec<SignerCertificate> = own.into_iter().collect();
        let learnt = self
            .store
            .read(keyring::document_signers_in)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "stored document signers unreadable");
                Vec::new()
            });
        for cert in learnt {
            if !out.iter().any(|c| c.raw == cert.raw) {
                out.push(cert);
            }
        }
        out.retain(|c| keyring::chains_to(&trust, c));
        out
    }

    /// Checks a scanned seal (a 2D scanner types it like a keyboard) against this
    /// station's trust list and the document signers it knows (`seal_signers`).
    pub fn check_seal(&self, text: &str) -> SealCheckView {
        let trust = self.trust_list();
        let signers = self.seal_signers();
        let verdict = card_seal::check(text, &trust, &signers, self.today());
        let (validity, validity_label) = match &verdict {
            Verdict::Genuine { validity, .. } => match validity {
                card_seal::Validity::Valid => (Some("valid"), Some("在有效期内")),
                card_seal::Validity::NotYetValid => (Some("not_yet_valid"), Some("尚未生效")),
                card_seal::Validity::Expired => (Some("expired"), Some("已过有效期")),
            },
            _ => (None, None),
        };
        let detail = match &verdict {
            Verdict::Forged(f) => Some(f.to_string()),
            Verdict::Unconfirmed(u) => Some(u.to_string()),
            _ => None,
        };
        let printed = match &verdict {
            Verdict::Genuine {
                payload, signer, ..
            } => Some(PrintedFacts {
                number: payload.number.clone(),
                name: payload.name.clone(),
                unit: payload.unit.clone(),
                kind_label: payload.kind.name_zh(),
                valid_from: payload.valid_from,
                valid_until: payload.valid_until,
                issued_on: payload.issued_on,
                card_serial: hex::encode_upper(payload.card_serial),
                signer: signer.clone(),
            }),
            _ => None,
        };
        let card_voided = printed.as_ref().is_some_and(|p| {
            self.store
                .read(|c| store::serial_revoked(c, &p.card_serial))
                .unwrap_or(false)
        });
        SealCheckView {
            card_voided,
            card_voided_label: card_voided.then_some("该卡已作废（在本站注销名单上），不得使用"),
            verdict: verdict.code(),
            verdict_label: verdict.label_zh(),
            validity,
            validity_label,
            detail,
            note: printed.as_ref().map(|_| Verdict::printed_only()),
            printed,
        }
    }
}

/// The CR80 PDF of `data` with `seal` in its QR code.
fn render_pdf(data: &card_profile::sequences::IssueData, seal: String) -> Result<Vec<u8>, OpError> {
    let cert = &data.certificate;
    let font = std::fs::read(card_face::DEFAULT_FONT).map_err(|e| {
        OpError::Face(FaceProblem::FontMissing {
            path: card_face::DEFAULT_FONT.into(),
            error: e.to_string(),
        })
    })?;
    let face = CardFace {
        kind: cert.kind,
        number: cert.number.to_string(),
        name: data.holder.name.clone(),
        unit: cert.unit.clone(),
        posts: labels::posts_zh(&cert.posts),
        category: cert.category.clone(),
        area: cert.area.clone(),
        issuer: cert.issuer.clone(),
        issued_on: cert.issue_date,
        valid_from: cert.valid_from,
        valid_until: cert.valid_until,
        photo_jpeg: data.photo_jpeg.clone(),
        seal,
    };
    card_face::render(&[face], &font).map_err(|e| {
        OpError::Face(match e {
            FaceError::Seal(_) => FaceProblem::SealTooLarge,
            other => FaceProblem::Render(other.to_string()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::registry_origin;

    #[test]
    fn only_a_plain_origin_reaches_the_page_and_its_policy() {
        assert_eq!(
            registry_origin("https://registry.example.org:8443/sync").as_deref(),
            Some("https://registry.example.org:8443")
        );
        assert_eq!(
            registry_origin("http://127.0.0.1:9000").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(
            registry_origin("https://[::1]:8443/").as_deref(),
            Some("https://[::1]:8443")
        );
        for bad in [
            "ftp://x",
            "https://",
            "https://a b",
            "https://x; script-src *",
            "https://user@host",
            "javascript:alert(1)",
        ] {
            assert_eq!(registry_origin(bad), None, "{bad}");
        }
    }
}
