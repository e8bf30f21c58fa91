//! What an application looks like on a page: its row with the words (state, kind),
//! its review deadline while it waits, and the photo checks' results.

use super::deadline::{review_deadline, ReviewDeadline};
use super::labels;
use crate::storage::{ApplicationRow, Unit};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// 新申领 / 换证 / 补证 / 年审, as the queue filters them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    New,
    Replacement,
    Reissue,
    Review,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::New, Kind::Replacement, Kind::Reissue, Kind::Review];

    /// The code a filter sends (`new`, `replacement`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Replacement => "replacement",
            Kind::Reissue => "reissue",
            Kind::Review => "review",
        }
    }

    /// The kind of a filed form: a 换证 names the certificate it replaces, a 补证
    /// the one it re-issues; everything else is a new application.
    pub fn of(row: &ApplicationRow) -> Kind {
        if row.form.replaces.is_some() {
            Kind::Replacement
        } else if row.form.reissues.is_some() {
            Kind::Reissue
        } else {
            Kind::New
        }
    }
}

/// An application in a list.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub row: ApplicationRow,
    pub unit_id: i64,
    pub region: String,
    pub state_label: &'static str,
    pub kind: Kind,
    pub kind_label: &'static str,
    /// While it waits for a review: the 3-working-day deadline.
    pub deadline: Option<ReviewDeadline>,
}

/// The date part of a stored RFC 3339 stamp.
pub fn date_of(stamp: &str) -> Option<NaiveDate> {
    stamp.get(..10).and_then(|d| d.parse().ok())
}

pub fn listed(
    row: ApplicationRow,
    unit: &Unit,
    today: NaiveDate,
    holidays: &ecard_domain::deadlines::Holidays,
) -> Listed {
    let deadline = review_deadline(&row, today, holidays);
    let kind = Kind::of(&row);
    Listed {
        state_label: labels::state_zh(row.state),
        kind,
        kind_label: labels::kind_zh(kind),
        unit_id: unit.id,
        region: unit.region.clone(),
        deadline,
        row,
    }
}

/// The photo checks' results, as the reviewer sees them.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoCheck {
    pub bytes: usize,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Each problem in Chinese; empty when the photo passes.
    pub problems: Vec<String>,
}

/// The photo checks a reviewer sees, under the province's limits (the ones filing
/// applied), not the domain's defaults.
pub fn photo_check(bytes: &[u8], rules: &ecard_domain::photo::PhotoRules) -> PhotoCheck {
    use ecard_domain::photo::{check_jpeg, PhotoViolation};
    let mut problems = Vec::new();
    let dims = match check_jpeg(bytes, rules.max_bytes) {
        Ok(d) => Some(d),
        Err(v) => {
            problems.push(v.to_string());
            None
        }
    };
    if bytes.len() < rules.min_bytes {
        problems.push(
            PhotoViolation::TooFewBytes {
                bytes: bytes.len(),
                min: rules.min_bytes,
            }
            .to_string(),
        );
    }
    if let Some((w, h)) = dims {
        if w < rules.min_width || h < rules.min_height {
            problems.push(
                PhotoViolation::TooFewPixels {
                    width: w,
                    height: h,
                    min_width: rules.min_width,
                    min_height: rules.min_height,
                }
                .to_string(),
            );
        }
    }
    PhotoCheck {
        bytes: bytes.len(),
        width: dims.map(|d| d.0),
        height: dims.map(|d| d.1),
        problems,
    }
}

/// One filed field as a page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub key: String,
    pub label: String,
    pub value: String,
}

fn field_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" => "姓名",
        "id_number" => "公民身份号码",
        "ethnicity" => "民族",
        "certificate_kind" => "证件类型",
        "posts" => "执法岗位",
        "category" => "执法类别",
        "area" => "执法区域",
        "entrusting_authority" => "委托机关",
        "entrusting_nature" => "委托机关性质",
        "valid_from" => "有效期起",
        "valid_until" => "有效期至",
        "replaces" => "原证件编号（换证）",
        "reissues" => "原证件编号（补证）",
        "announced_on" => "考试合格确认公告日期",
        "exam_category" => "考试类别",
        "law_exam_on" => "通用法律知识考试时间",
        "law_exam_score" => "通用法律知识考试成绩",
        "specialty_exam_on" => "专业法律知识考试时间",
        "specialty_exam_score" => "专业法律知识考试成绩",
        "org_nature" => "工作单位机构性质",
        "staffing" => "编制情况",
        "position" => "现任职务",
        "holds_national_certificate" => "持有国家部委行政执法证件",
        _ => return None,
    })
}

fn kind_zh(kind: card_profile::records::CertificateKind) -> &'static str {
    use card_profile::records::CertificateKind as K;
    match kind {
        K::Enforcement => "行政执法证",
        K::Entrusted => "委托行政执法证",
        K::Supervision => "行政执法监督证",
    }
}

/// The form's fields, every one the form holds (eligibility data a newer form
/// carries included: an unknown field is shown under its own name), empty ones left out.
pub fn form_fields(form: &crate::form::ApplicationForm) -> Vec<Field> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(form) else {
        return Vec::new();
    };
    let text = |v: &serde_json::Value| -> Option<String> {
        match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) if s.trim().is_empty() => None,
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Bool(b) => Some(if *b { "是" } else { "否" }.to_owned()),
            other => Some(other.to_string()),
        }
    };
    const ORDER: [&str; 12] = [
        "name",
        "id_number",
        "ethnicity",
        "certificate_kind",
        "posts",
        "category",
        "area",
        "entrusting_authority",
        "entrusting_nature",
        "valid_from",
        "valid_until",
        "replaces",
    ];
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    keys.into_iter()
        .filter_map(|k| map.get(k).map(|v| (k, v)))
        .filter(|(k, _)| k.as_str() != "photo_jpeg")
        .filter_map(|(k, v)| {
            let value = match (k.as_str(), form.staffing) {
                ("certificate_kind", _) => kind_zh(form.certificate_kind).to_owned(),
                // The domain's words, not the stored code.
                ("staffing", Some(s)) => s.label_zh().to_owned(),
                _ => text(v)?,
            };
            Some(Field {
                key: k.clone(),
                label: field_label(k)
                    .map(str::to_owned)
                    .unwrap_or_else(|| k.clone()),
                value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filed_field_reads_in_words_not_codes() {
        let form: crate::form::ApplicationForm = serde_json::from_value(serde_json::json!({
            "name": "张三", "id_number": "11010519850601002X", "ethnicity": "汉族",
            "certificate_kind": "enforcement", "posts": "01", "category": "教育", "area": "岳池县",
            "staffing": "civil_servant", "holds_national_certificate": false,
            "law_exam_score": 80,
        }))
        .expect("form");
        let fields = form_fields(&form);
        let label = |key: &str| {
            fields
                .iter()
                .find(|f| f.key == key)
                .map(|f| (f.label.as_str(), f.value.as_str()))
        };
        assert_eq!(label("staffing"), Some(("编制情况", "公务员")));
        assert_eq!(
            label("holds_national_certificate"),
            Some(("持有国家部委行政执法证件", "否"))
        );
        assert_eq!(
            label("law_exam_score"),
            Some(("通用法律知识考试成绩", "80"))
        );
        assert_eq!(label("certificate_kind"), Some(("证件类型", "行政执法证")));
    }
}
