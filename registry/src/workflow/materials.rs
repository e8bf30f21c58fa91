//! Proof materials (证明材料): what a unit may file with an application and who may
//! read them. A file is accepted by what its bytes are (a PDF, JPEG or PNG
//! signature), never by its name or the client's content type; its size and the
//! number per application are bounded; its name is kept for display only. A unit
//! files them while the application is with it or waiting for the first review
//! (submitted, rejected, returned); every account that oversees the application
//! (`rules::oversees`) reads them, any other gets the same `not_found` as for the
//! application itself.

use super::rules::{self, TransitionError};
use super::service::{forbidden, Result, WorkflowError};
use crate::storage::{Account, AppState, MaterialInfo, Role, Storage};
use thiserror::Error;

/// The largest file accepted: a scanned page or two, not an archive.
pub const MAX_MATERIAL_BYTES: usize = 5 * 1024 * 1024;
/// The most files one application carries.
pub const MAX_MATERIALS: usize = 10;
/// A longer name is cut (characters).
const MAX_NAME_CHARS: usize = 80;

/// The kinds of file accepted, found from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaterialType {
    Pdf,
    Jpeg,
    Png,
}

impl MaterialType {
    /// The type `bytes` are by their signature, if one accepted.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else {
            None
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    pub fn parse(media_type: &str) -> Option<Self> {
        [Self::Pdf, Self::Jpeg, Self::Png]
            .into_iter()
            .find(|t| t.media_type() == media_type)
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MaterialError {
    #[error("材料文件为空")]
    Empty,
    #[error("材料文件超过 {} MB 上限", MAX_MATERIAL_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("材料须为 PDF、JPEG 或 PNG 文件（按文件内容判断，与文件名无关）")]
    NotAllowedType,
    #[error("每件申请最多附 {MAX_MATERIALS} 份证明材料")]
    TooMany,
}

impl MaterialError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "material_empty",
            Self::TooLarge => "material_too_large",
            Self::NotAllowedType => "material_type",
            Self::TooMany => "too_many_materials",
        }
    }
}

/// The name as shown: its last path component, control and quoting characters
/// dropped, at most `MAX_NAME_CHARS`; `材料.ext` when nothing is left.
pub fn clean_name(raw: &str, kind: MaterialType) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '`'))
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    if cleaned.is_empty() {
        format!("材料.{}", kind.extension())
    } else {
        cleaned
    }
}

/// May the unit still add materials to an application in `state`?
fn open_for_materials(state: AppState) -> bool {
    state == AppState::Submitted || rules::editable(state)
}

/// Files `bytes` as a material of application `id`, for the unit `account`.
pub fn add(
    storage: &Storage,
    account: &Account,
    id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<MaterialInfo> {
    if bytes.is_empty() {
        return Err(MaterialError::Empty.into());
    }
    if bytes.len() > MAX_MATERIAL_BYTES {
        return Err(MaterialError::TooLarge.into());
    }
    let kind = MaterialType::sniff(bytes).ok_or(MaterialError::NotAllowedType)?;
    let name = clean_name(name, kind);
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        if account.role != Role::Unit || !rules::oversees(account, &rec.unit) {
            return Err(forbidden());
        }
        if !open_for_materials(rec.row.state) {
            return Err(TransitionError::WrongState(rec.row.state).into());
        }
        // Counted in the same transaction as the insert: two uploads at once
        // cannot both pass the limit.
        if tx.material_count(id)? >= MAX_MATERIALS {
            return Err(MaterialError::TooMany.into());
        }
        Ok(tx.insert_material(id, &name, kind.media_type(), bytes, &account.username)?)
    })
}

/// The materials of application `id`, for an account that oversees it.
pub fn list(storage: &Storage, account: &Account, id: i64) -> Result<Vec<MaterialInfo>> {
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        if !rules::oversees(account, &rec.unit) {
            return Err(forbidden());
        }
        Ok(tx.materials(id)?)
    })
}

/// Material `material` of application `id` with its bytes and checked type.
pub fn get(
    storage: &Storage,
    account: &Account,
    id: i64,
    material: i64,
) -> Result<(MaterialInfo, MaterialType, Vec<u8>)> {
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        if !rules::oversees(account, &rec.unit) {
            return Err(forbidden());
        }
        let (info, bytes) = tx.material(id, material)?.ok_or_else(|| {
            WorkflowError::from(crate::storage::StorageError::NotFound {
                what: "material",
                id: material.to_string(),
            })
        })?;
        // Served as what its bytes are now (checked again, not trusted from the row).
        let kind = MaterialType::sniff(&bytes)
            .filter(|k| MaterialType::parse(&info.media_type) == Some(*k))
            .ok_or(MaterialError::NotAllowedType)?;
        Ok((info, kind, bytes))
    })
}

/// `Content-Disposition` of a material: an ASCII fallback name and the cleaned
/// name percent-encoded (RFC 6266/8187), so no byte of the stored name reaches the
/// header unencoded. Images open in the browser; PDFs are downloaded.
pub fn content_disposition(info: &MaterialInfo, kind: MaterialType) -> String {
    let how = if kind == MaterialType::Pdf {
        "attachment"
    } else {
        "inline"
    };
    let mut encoded = String::new();
    for b in info.file_name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!(
        "{how}; filename=\"material-{}.{}\"; filename*=UTF-8''{encoded}",
        info.id,
        kind.extension()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_is_found_from_the_bytes_not_the_name() {
        assert_eq!(MaterialType::sniff(b"%PDF-1.7\n"), Some(MaterialType::Pdf));
        assert_eq!(
            MaterialType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(MaterialType::Jpeg)
        );
        assert_eq!(
            MaterialType::sniff(b"\x89PNG\r\n\x1a\nIHDR"),
            Some(MaterialType::Png)
        );
        assert_eq!(MaterialType::sniff(b"<html><script>"), None);
        assert_eq!(MaterialType::sniff(b"MZ\x90\x00"), None);
        assert_eq!(MaterialType::sniff(b""), None);
    }

    #[test]
    fn a_name_loses_its_path_and_quotes_and_the_header_is_encoded() {
        assert_eq!(
            clean_name("C:\\scans\\..\\任职文件.pdf", MaterialType::Pdf),
            "任职文件.pdf"
        );
        assert_eq!(clean_name("../../etc/passwd", MaterialType::Pdf), "passwd");
        assert_eq!(clean_name("a\"b\r\n.png", MaterialType::Png), "ab.png");
        assert_eq!(clean_name("  ", MaterialType::Jpeg), "材料.jpg");
        let info = MaterialInfo {
            id: 7,
            application_id: 1,
            file_name: "任职 文件\".pdf".into(),
            media_type: "application/pdf".into(),
            size: 1,
            uploaded_by: "u".into(),
            created_at: String::new(),
        };
        let h = content_disposition(&info, MaterialType::Pdf);
        assert!(h.starts_with("attachment; filename=\"material-7.pdf\"; filename*=UTF-8''"));
        let encoded = h.rsplit("''").next().unwrap_or_default();
        assert!(h.is_ascii() && !encoded.contains([' ', '"', ';']), "{h}");
        assert_eq!(encoded, "%E4%BB%BB%E8%81%8C%20%E6%96%87%E4%BB%B6%22.pdf");
    }
}
