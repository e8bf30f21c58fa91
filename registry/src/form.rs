//! What a unit files for one person: holder data, certificate data, photo. Checked
//! with the domain rules (citizen ID, ethnicity, posts, photo) before it is stored.

use base64::Engine;
use card_profile::records::{Certificate, CertificateKind, Holder};
use chrono::{Months, NaiveDate};
use ecard_domain::citizen_id::CitizenId;
use ecard_domain::codes::{parse_posts, Ethnicity};
use ecard_domain::roster::{ApplicationKind, RosterRow};
use ecard_sync_protocol::events::{SuccessionKind, SuccessionSubmitted};
use serde::{Deserialize, Serialize};

/// Largest registered photo accepted (the chip photo is downscaled from it).
pub const MAX_PHOTO_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationForm {
    /// 换证: the holder's current certificate number, cancelled when this is approved
    /// (already cancelled when the 换证 was made at a station).
    #[serde(default)]
    pub replaces: Option<String>,
    /// 补证: the number declared void after a loss (voided at the station that made
    /// the 补证, or when this is approved).
    #[serde(default)]
    pub reissues: Option<String>,
    pub name: String,
    pub id_number: String,
    pub ethnicity: String,
    pub certificate_kind: CertificateKind,
    /// Post codes, e.g. "01,02".
    pub posts: String,
    pub category: String,
    pub area: String,
    #[serde(default)]
    pub entrusting_authority: Option<String>,
    #[serde(default)]
    pub entrusting_nature: Option<String>,
    /// Defaults to the approval date.
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// Defaults to five years after `valid_from` (DOMAIN.md validity).
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// Base64 JPEG. Stored apart from the form; absent in stored forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_jpeg: Option<String>,
}

/// Defaults for roster rows, which have no category, area or certificate kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterDefaults {
    pub certificate_kind: CertificateKind,
    pub category: String,
    pub area: String,
}

/// A checked form: the citizen ID parsed, the photo decoded.
#[derive(Debug, Clone)]
pub struct CheckedForm {
    pub form: ApplicationForm,
    pub citizen_id: CitizenId,
    pub photo: Option<Vec<u8>>,
}

fn required(label: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{label}不能为空"));
    }
    if value.chars().count() > max {
        return Err(format!("{label}不能超过{max}个字"));
    }
    Ok(())
}

impl ApplicationForm {
    /// Checks the form; the error is the Chinese message for the unit.
    pub fn check(mut self, today: NaiveDate) -> Result<CheckedForm, String> {
        required("姓名", &self.name, 50)?;
        required("执法类别", &self.category, 100)?;
        required("执法区域", &self.area, 100)?;
        let citizen_id = CitizenId::parse(&self.id_number, today).map_err(|e| e.to_string())?;
        self.id_number = citizen_id.as_str().to_owned();
        Ethnicity::parse(&self.ethnicity).map_err(|e| e.to_string())?;
        let posts = parse_posts(&self.posts).map_err(|e| e.to_string())?;
        self.posts = posts.iter().map(|p| p.code()).collect::<Vec<_>>().join(",");
        if self.certificate_kind == CertificateKind::Entrusted {
            required(
                "委托机关",
                self.entrusting_authority.as_deref().unwrap_or(""),
                100,
            )?;
            required(
                "委托机关性质",
                self.entrusting_nature.as_deref().unwrap_or(""),
                50,
            )?;
        } else {
            self.entrusting_authority = None;
            self.entrusting_nature = None;
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until) {
            if until <= from {
                return Err("证件有效期截止日应晚于起始日".into());
            }
        }
        if let Some(r) = &self.replaces {
            required("原证件编号", r, 64)?;
        }
        if let Some(r) = &self.reissues {
            required("原证件编号", r, 64)?;
            if self.replaces.is_some() {
                return Err("一份申请不能既是换证又是补证".into());
            }
        }
        let photo = match self.photo_jpeg.take() {
            None => None,
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| "照片不是有效的Base64编码".to_string())?;
                if bytes.len() > MAX_PHOTO_BYTES || !bytes.starts_with(&[0xFF, 0xD8]) {
                    return Err("照片应为不超过512KB的JPEG文件".into());
                }
                Some(bytes)
            }
        };
        Ok(CheckedForm {
            form: self,
            citizen_id,
            photo,
        })
    }

    /// The certificate this one follows (换证 or 补证), if any.
    pub fn follows(&self) -> Option<&str> {
        self.replaces.as_deref().or(self.reissues.as_deref())
    }

    /// A form from a 换证/补证 made at a station: the old certificate's data with the
    /// changes the station recorded, for the unit named in it.
    pub fn from_succession(s: &SuccessionSubmitted) -> Self {
        let old = Some(s.old_number.trim().to_owned());
        ApplicationForm {
            replaces: old
                .clone()
                .filter(|_| s.kind == SuccessionKind::Replacement),
            reissues: old.filter(|_| s.kind == SuccessionKind::Reissue),
            name: s.holder.name.clone(),
            id_number: s.holder.id_number.clone(),
            ethnicity: s.holder.ethnicity.clone(),
            certificate_kind: s.certificate_kind,
            posts: s.posts.clone(),
            category: s.category.clone(),
            area: s.area.clone(),
            entrusting_authority: s.entrusting_authority.clone(),
            entrusting_nature: s.entrusting_nature.clone(),
            valid_from: None,
            valid_until: None,
            photo_jpeg: s.photo_jpeg.clone(),
        }
    }

    /// A form from one roster row (domain/src/roster.rs) and the batch's defaults.
    pub fn from_roster(row: &RosterRow, defaults: &RosterDefaults) -> Self {
        ApplicationForm {
            replaces: match row.kind {
                ApplicationKind::Replacement => row.certificate_number.clone(),
                ApplicationKind::New => None,
            },
            reissues: None,
            name: row.name.clone(),
            id_number: row.citizen_id.as_str().to_owned(),
            ethnicity: row.ethnicity.as_str().to_owned(),
            certificate_kind: defaults.certificate_kind,
            posts: row
                .posts
                .iter()
                .map(|p| p.code())
                .collect::<Vec<_>>()
                .join(","),
            category: defaults.category.clone(),
            area: defaults.area.clone(),
            entrusting_authority: None,
            entrusting_nature: None,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            photo_jpeg: None,
        }
    }
}

impl CheckedForm {
    pub fn holder(&self) -> Holder {
        Holder {
            name: self.form.name.trim().to_owned(),
            gender: self.citizen_id.gender(),
            ethnicity: self.form.ethnicity.trim().to_owned(),
            birth_date: self.citizen_id.birth_date(),
            id_number: self.citizen_id.as_str().to_owned(),
        }
    }

    /// The certificate as approved on `today` by `issuer` under `number`.
    pub fn certificate(
        &self,
        number: &str,
        unit: &str,
        issuer: &str,
        today: NaiveDate,
    ) -> Certificate {
        let valid_from = self.form.valid_from.unwrap_or(today);
        let valid_until = self.form.valid_until.unwrap_or_else(|| {
            valid_from
                .checked_add_months(Months::new(60))
                .and_then(|d| d.pred_opt())
                .unwrap_or(valid_from)
        });
        Certificate {
            number: number.to_owned(),
            kind: self.form.certificate_kind,
            unit: unit.to_owned(),
            entrusting_authority: self.form.entrusting_authority.clone(),
            entrusting_nature: self.form.entrusting_nature.clone(),
            posts: self.form.posts.clone(),
            category: self.form.category.trim().to_owned(),
            area: self.form.area.trim().to_owned(),
            issuer: issuer.to_owned(),
            issue_date: today,
            valid_from,
            valid_until,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use card_profile::records::Gender;

    pub fn form() -> ApplicationForm {
        ApplicationForm {
            replaces: None,
            reissues: None,
            name: "张三".into(),
            id_number: "11010519491231002X".into(),
            ethnicity: "汉族".into(),
            certificate_kind: CertificateKind::Enforcement,
            posts: "1、2".into(),
            category: "教育".into(),
            area: "广安市".into(),
            entrusting_authority: None,
            entrusting_nature: None,
            valid_from: None,
            valid_until: None,
            photo_jpeg: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
    }

    #[test]
    fn good_form_checks_and_builds_card_records() {
        let c = form().check(today()).expect("valid");
        assert_eq!(c.form.posts, "01,02");
        let h = c.holder();
        assert_eq!(h.gender, Gender::Female);
        let cert = c.certificate("川X050001", "广安市教育局", "广安市司法局", today());
        assert_eq!(
            cert.valid_until,
            NaiveDate::from_ymd_opt(2031, 11, 22).expect("date")
        );
    }

    #[test]
    fn bad_fields_refused_with_chinese_messages() {
        let mut f = form();
        f.id_number = "110105194912310021".into();
        assert!(f.check(today()).is_err());
        let mut f = form();
        f.certificate_kind = CertificateKind::Entrusted;
        assert_eq!(f.check(today()).err().as_deref(), Some("委托机关不能为空"));
        let mut f = form();
        f.photo_jpeg = Some("aGVsbG8=".into());
        assert!(f.check(today()).is_err());
    }
}
