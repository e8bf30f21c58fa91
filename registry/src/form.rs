//! What a unit files for one person: holder data, certificate data, the Sichuan
//! 信息收集表 facts eligibility needs (机构性质, 编制情况, 现任职务, exam dates and
//! scores, 公告日), photo. Checked with the domain rules (citizen ID, ethnicity,
//! posts, photo limits of the province, validity, eligibility) before it is stored.

use base64::Engine;
use card_profile::records::{Certificate, CertificateKind, Holder};
use chrono::NaiveDate;
use ecard_domain::citizen_id::CitizenId;
use ecard_domain::codes::{parse_posts, Ethnicity};
use ecard_domain::eligibility::{self, ExamResult, Facts, Staffing};
use ecard_domain::province::ProvinceConfig;
use ecard_domain::roster::{ApplicationKind, RosterRow};
use ecard_domain::validity::{self, ValidityError, ValidityPeriod};
use ecard_sync_protocol::events::{CertificateNumber, SuccessionKind, SuccessionSubmitted};
use serde::{Deserialize, Serialize};

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
    /// Validity starts on the exam-pass announcement date: when given it must be
    /// `announced_on` (or stands for it when that is absent).
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// When given it must be the rule's (`validity::check_period`); computed otherwise.
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// 考试合格确认公告之日: validity counts five years from it (seed 003 ⑥).
    /// Without it (nor `valid_from`) the approval date stands for it.
    #[serde(default)]
    pub announced_on: Option<NaiveDate>,
    /// 考试类别 (as in the roster template).
    #[serde(default)]
    pub exam_category: Option<String>,
    /// 通用法律知识考试时间 / 考试成绩 (whole points).
    #[serde(default)]
    pub law_exam_on: Option<NaiveDate>,
    #[serde(default)]
    pub law_exam_score: Option<u16>,
    /// 专业法律知识考试时间 / 考试成绩 (kept for the record; set by each department).
    #[serde(default)]
    pub specialty_exam_on: Option<NaiveDate>,
    #[serde(default)]
    pub specialty_exam_score: Option<u16>,
    /// 工作单位机构性质 (e.g. 行政机关, 法律法规授权组织, 受委托组织).
    #[serde(default)]
    pub org_nature: Option<String>,
    /// 本人编制情况.
    #[serde(default)]
    pub staffing: Option<Staffing>,
    /// 现任职务 (the position held, e.g. 科员; not the post codes).
    #[serde(default)]
    pub position: Option<String>,
    /// Holds a national-ministry enforcement certificate (国家部委行政执法证件).
    #[serde(default)]
    pub holds_national_certificate: bool,
    /// 证编号 the unit gave a new applicant, only where the province's units number
    /// their own (`units_prefill_numbers`; Fujian). Checked when filed
    /// (`storage::prefilled_number`, as a station's roster row), kept by an edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<CertificateNumber>,
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
    /// Checks the form under the province's rules; the error is the Chinese
    /// message for the unit. A form whose facts already make the person ineligible
    /// (`eligibility::check`) is refused here, at filing.
    pub fn check(
        mut self,
        today: NaiveDate,
        province: &ProvinceConfig,
    ) -> Result<CheckedForm, String> {
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
        for (label, v, max) in [
            ("考试类别", &self.exam_category, 50),
            ("机构性质", &self.org_nature, 50),
            ("现任职务", &self.position, 50),
        ] {
            if let Some(v) = v {
                required(label, v, max)?;
            }
        }
        for (label, score) in [
            ("通用法律知识考试成绩", self.law_exam_score),
            ("专业法律知识考试成绩", self.specialty_exam_score),
        ] {
            if score.is_some_and(|s| s > 100) {
                return Err(format!("{label}应在0到100分之间"));
            }
        }
        if self.law_exam_on.is_some() != self.law_exam_score.is_some() {
            return Err("通用法律知识考试时间和成绩须同时填写".into());
        }
        if let (Some(a), Some(f)) = (self.announced_on, self.valid_from) {
            if a != f {
                return Err(format!(
                    "证件有效期起始日{f}应为考试合格公告日{a}（有效期自公告之日起算）"
                ));
            }
        }
        // The one validity rule, now: with the announcement date when known, else
        // as if approved today (someone already retired is refused at filing).
        if self.announced().is_none() && self.valid_until.is_some() {
            return Err("填写了证件有效期截止日时须填写考试合格公告日，截止日由它计算".into());
        }
        validity::check_period(
            self.announced().unwrap_or(today),
            self.valid_until,
            citizen_id.birth_date(),
            citizen_id.gender(),
            &province.retirement,
        )
        .map_err(|e| e.to_string())?;
        if let Some(r) = &self.replaces {
            required("原证件编号", r, 64)?;
        }
        if let Some(r) = &self.reissues {
            required("原证件编号", r, 64)?;
            if self.replaces.is_some() {
                return Err("一份申请不能既是换证又是补证".into());
            }
        }
        let verdict = eligibility::check(&self.facts_with(&posts, Vec::new()), today);
        if let Some(first) = verdict.ineligible.first() {
            return Err(first.to_string());
        }
        let photo = match self.photo_jpeg.take() {
            None => None,
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| "照片不是有效的Base64编码".to_string())?;
                let limits = &province.photo;
                if bytes.len() > limits.max_bytes
                    || bytes.len() < limits.min_bytes
                    || !bytes.starts_with(&[0xFF, 0xD8])
                {
                    return Err(photo_limits_zh(limits));
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

    /// The announcement date the validity rule counts from, when the form says.
    pub fn announced(&self) -> Option<NaiveDate> {
        self.announced_on.or(self.valid_from)
    }

    /// The eligibility facts this form carries, with the registry's own knowledge
    /// of the person's other live certificates.
    pub fn facts(&self, other_live_certificates: Vec<String>) -> Facts {
        let posts = parse_posts(&self.posts).unwrap_or_default();
        self.facts_with(&posts, other_live_certificates)
    }

    fn facts_with(
        &self,
        posts: &[ecard_domain::codes::PostCode],
        other_live_certificates: Vec<String>,
    ) -> Facts {
        Facts {
            staffing: self.staffing,
            posts: posts.to_vec(),
            law_exam: match (self.law_exam_on, self.law_exam_score) {
                (Some(taken_on), Some(score)) => Some(ExamResult { taken_on, score }),
                _ => None,
            },
            holds_national_certificate: self.holds_national_certificate,
            other_live_certificates,
        }
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
            // A 换证/补证 keeps the person's eligibility (the old certificate was
            // granted on it); the new dates come from the validity rule at approval.
            announced_on: None,
            exam_category: None,
            law_exam_on: None,
            law_exam_score: None,
            specialty_exam_on: None,
            specialty_exam_score: None,
            org_nature: None,
            staffing: None,
            position: None,
            holds_national_certificate: false,
            number: None,
            photo_jpeg: s.photo_jpeg.clone(),
        }
    }

    /// A form from one roster row (domain/src/roster.rs) and the batch's defaults.
    pub fn from_roster(row: &RosterRow, defaults: &RosterDefaults) -> Self {
        ApplicationForm {
            replaces: match row.kind {
                ApplicationKind::Replacement => {
                    row.certificate_number.as_ref().map(ToString::to_string)
                }
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
            // The roster's 证有效期起始日 is the announcement date.
            announced_on: row.valid_from,
            exam_category: Some(row.exam_category.trim().to_owned()).filter(|c| !c.is_empty()),
            // The template's eligibility columns, when the row has them (else the
            // reviewer sees the facts unverified).
            law_exam_on: row.law_exam_on,
            law_exam_score: row.law_exam_score,
            specialty_exam_on: None,
            specialty_exam_score: None,
            org_nature: row.org_nature.clone(),
            staffing: row.staffing,
            position: row.position.clone(),
            holds_national_certificate: false,
            number: None,
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

    /// The certificate's dates by the one validity rule (`validity::check_period`):
    /// from the announcement date (the approval date when the form has none) for
    /// five years, ended by the holder's retirement date under the province's rule.
    pub fn validity(
        &self,
        today: NaiveDate,
        province: &ProvinceConfig,
    ) -> Result<ValidityPeriod, ValidityError> {
        validity::check_period(
            self.form.announced().unwrap_or(today),
            self.form.valid_until,
            self.citizen_id.birth_date(),
            self.citizen_id.gender(),
            &province.retirement,
        )
    }

    /// The certificate as approved on `today` by `issuer` under `number`, valid
    /// for `period` ([`CheckedForm::validity`]).
    pub fn certificate(
        &self,
        number: &CertificateNumber,
        unit: &str,
        issuer: &str,
        today: NaiveDate,
        period: ValidityPeriod,
    ) -> Certificate {
        let ValidityPeriod {
            valid_from,
            valid_until,
        } = period;
        Certificate {
            number: number.clone(),
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

/// The province's photo limits, as the unit reads them.
fn photo_limits_zh(limits: &ecard_domain::photo::PhotoRules) -> String {
    let kb = |b: usize| b.div_ceil(1024);
    if limits.min_bytes == 0 {
        format!("照片应为不超过{}KB的JPEG文件", kb(limits.max_bytes))
    } else {
        format!(
            "照片应为{}KB到{}KB之间的JPEG文件",
            kb(limits.min_bytes),
            kb(limits.max_bytes)
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use card_profile::records::Gender;

    /// Born 1985-06-01, female: retires in 2043.
    pub const YOUNG_ID: &str = "11010519850601002X";
    /// Born 1968-09-15, male: retires on 2029-09-15 (2025 reform: 61 years).
    pub const RETIRING_ID: &str = "110105196809150012";

    pub fn form() -> ApplicationForm {
        ApplicationForm {
            replaces: None,
            reissues: None,
            name: "张三".into(),
            id_number: YOUNG_ID.into(),
            ethnicity: "汉族".into(),
            certificate_kind: CertificateKind::Enforcement,
            posts: "1、2".into(),
            category: "教育".into(),
            area: "广安市".into(),
            entrusting_authority: None,
            entrusting_nature: None,
            valid_from: None,
            valid_until: None,
            announced_on: Some(d(2025, 9, 1)),
            exam_category: Some("综合法律知识考试".into()),
            law_exam_on: Some(d(2025, 7, 20)),
            law_exam_score: Some(78),
            specialty_exam_on: None,
            specialty_exam_score: None,
            org_nature: Some("行政机关".into()),
            staffing: Some(Staffing::CivilServant),
            position: Some("科员".into()),
            holds_national_certificate: false,
            number: None,
            photo_jpeg: None,
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn today() -> NaiveDate {
        d(2026, 11, 23)
    }

    fn sichuan() -> ProvinceConfig {
        ProvinceConfig::sichuan()
    }

    #[test]
    fn good_form_checks_and_builds_card_records() {
        let c = form().check(today(), &sichuan()).expect("valid");
        assert_eq!(c.form.posts, "01,02");
        let h = c.holder();
        assert_eq!(h.gender, Gender::Female);
        let period = c.validity(today(), &sichuan()).expect("period");
        let cert = c.certificate(
            &"川X050001".parse().expect("number"),
            "广安市教育局",
            "广安市司法局",
            today(),
            period,
        );
        // Five years from the announcement date, same month and day.
        assert_eq!(cert.valid_from, d(2025, 9, 1));
        assert_eq!(cert.valid_until, d(2030, 9, 1));
        assert_eq!(cert.issue_date, today());
    }

    #[test]
    fn validity_is_capped_by_retirement() {
        let mut f = form();
        f.id_number = RETIRING_ID.into();
        let c = f.check(today(), &sichuan()).expect("valid");
        let p = c.validity(today(), &sichuan()).expect("period");
        assert_eq!(p.valid_until, d(2029, 9, 15));
        // A typed end date that is not the rule's is refused with the right date.
        let mut f = form();
        f.id_number = RETIRING_ID.into();
        f.valid_until = Some(d(2030, 9, 1));
        let e = f.check(today(), &sichuan()).expect_err("refused");
        assert!(e.contains("应为2029-09-15"), "{e}");
        // Already retired: refused at filing.
        let mut f = form();
        f.id_number = "11010519491231002X".into();
        assert!(f
            .check(today(), &sichuan())
            .expect_err("retired")
            .contains("退休"));
    }

    #[test]
    fn ineligible_facts_refused_at_filing() {
        let mut f = form();
        f.law_exam_score = Some(59);
        assert!(f
            .check(today(), &sichuan())
            .expect_err("failed")
            .contains("未达到60分"));
        let mut f = form();
        f.staffing = Some(Staffing::Contract);
        assert!(f
            .check(today(), &sichuan())
            .expect_err("contract")
            .contains("合同聘用人员"));
        let mut f = form();
        f.holds_national_certificate = true;
        assert!(f
            .check(today(), &sichuan())
            .expect_err("national")
            .contains("国家部委"));
        let mut f = form();
        f.law_exam_on = Some(d(2023, 7, 20));
        assert!(f
            .check(today(), &sichuan())
            .expect_err("old")
            .contains("超过三年"));
        // Missing facts are not a refusal at filing (the reviewer sees them).
        let mut f = form();
        f.law_exam_on = None;
        f.law_exam_score = None;
        f.staffing = None;
        assert!(f.check(today(), &sichuan()).is_ok());
    }

    #[test]
    fn bad_fields_refused_with_chinese_messages() {
        let mut f = form();
        f.id_number = "110105194912310021".into();
        assert!(f.check(today(), &sichuan()).is_err());
        let mut f = form();
        f.certificate_kind = CertificateKind::Entrusted;
        assert_eq!(
            f.check(today(), &sichuan()).err().as_deref(),
            Some("委托机关不能为空")
        );
        let mut f = form();
        f.photo_jpeg = Some("aGVsbG8=".into());
        assert!(f.check(today(), &sichuan()).is_err());
    }

    #[test]
    fn photo_limits_are_the_provinces() {
        use base64::Engine;
        let mut jpeg = vec![0xFF, 0xD8, 0xFF];
        jpeg.resize(150 * 1024, 0);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);
        let mut f = form();
        f.photo_jpeg = Some(b64.clone());
        // Sichuan: within 100 KB.
        assert_eq!(
            f.check(today(), &sichuan()).err().as_deref(),
            Some("照片应为不超过100KB的JPEG文件")
        );
        // Guangxi: 100 KB to 1 MB.
        let gx = ProvinceConfig::from_json(ecard_domain::province::GUANGXI_JSON).expect("gx");
        let mut f = form();
        f.photo_jpeg = Some(b64);
        assert!(f.check(today(), &gx).is_ok());
    }
}
