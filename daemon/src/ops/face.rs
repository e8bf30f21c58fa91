//! The printed card face and its signed QR (issue #16; docs/CARD-FACE.md,
//! docs/SEAL.md): a certificate's face is rendered from the records with a seal the
//! station's document signer makes at that moment; a scanned seal is checked against
//! this station's trust list.

use card_face::{CardFace, FaceError};
use card_seal::{SealPayload, Verdict};
use serde::Serialize;
use thiserror::Error;

use super::{OpError, Station};
use crate::labels;
use crate::store::{self, CardState};

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
}

impl FaceProblem {
    pub fn code(&self) -> &'static str {
        match self {
            FaceProblem::NoLiveCard => "no_live_card",
            FaceProblem::SealTooLarge => "seal_too_large",
            FaceProblem::FontMissing { .. } => "face_font_missing",
            FaceProblem::Render(_) => "face_render_failed",
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

impl Station {
    /// The face (front and back) of a certificate's live card as PDF, with a seal
    /// signed today by this station's document signer.
    pub fn card_face(&self, certificate_id: i64) -> Result<Vec<u8>, OpError> {
        let keys = self.keys()?;
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
        let cert = &data.certificate;
        let today = self.today();
        let seal = card_seal::issue(
            &SealPayload {
                number: cert.number.to_string(),
                name: data.holder.name.clone(),
                unit: cert.unit.clone(),
                kind: cert.kind,
                valid_from: cert.valid_from,
                valid_until: cert.valid_until,
                issued_on: today,
                card_serial: serial,
                photo_hash: SealPayload::photo_hash_of(&data.photo_jpeg),
            },
            &keys.signer,
        )
        .map_err(|e| match e {
            card_seal::IssueError::TooLarge => OpError::Face(FaceProblem::SealTooLarge),
            card_seal::IssueError::Signing(e) => OpError::Face(FaceProblem::Render(e.to_string())),
        })?;
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
            photo_jpeg: data.photo_jpeg,
            seal,
        };
        card_face::render(&[face], &font).map_err(|e| {
            OpError::Face(match e {
                FaceError::Seal(_) => FaceProblem::SealTooLarge,
                other => FaceProblem::Render(other.to_string()),
            })
        })
    }

    /// Checks a scanned seal (a 2D scanner types it like a keyboard) against this
    /// station's trust list and its own document signer.
    pub fn check_seal(&self, text: &str) -> SealCheckView {
        let trust = self.trust_list();
        let signers: Vec<_> = self
            .keys()
            .map(|k| vec![k.signer.certificate.clone()])
            .unwrap_or_default();
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
        SealCheckView {
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
