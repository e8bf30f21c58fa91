//! Roster import (导入): the official xlsx and its photos, validated all-or-nothing by
//! ecard_domain::roster, then recorded in one transaction: each person's record with
//! the chip-sized photo, and one application per row queued for the registry, where
//! the county and city bureaus decide. A refused import changes nothing. A row that
//! would change the name, ID-linked data or photo of an officer who holds a
//! certificate (or has one pending) leaves the record as it is and becomes a pending
//! correction (ops::corrections).

use super::{OpError, Station};
use crate::store;
use base64::Engine;
use card_profile::records::Holder;
use ecard_domain::roster::{self, ImportOptions, ImportReport, Photos, RosterRow};
use ecard_sync_protocol::events::{ApplicationSubmitted, EventBody};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub imported: usize,
    pub application_ids: Vec<i64>,
    /// Rows that would change a certified officer's record: the record is kept and
    /// these corrections await review (store::corrections).
    pub corrections: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file itself: every problem, by sheet, row and column.
    #[error("{0}")]
    Rejected(ImportReport),
    #[error(transparent)]
    Op(#[from] OpError),
}

pub(super) fn holder_of(row: &RosterRow) -> Holder {
    Holder {
        name: row.name.clone(),
        gender: row.gender,
        ethnicity: row.ethnicity.as_str().to_owned(),
        birth_date: row.birth_date,
        id_number: row.citizen_id.to_string(),
    }
}

impl Station {
    pub fn import_roster(
        &self,
        actor: &str,
        xlsx: &[u8],
        photos: Photos<'_>,
    ) -> Result<ImportOutcome, ImportError> {
        let rows = roster::import(
            xlsx,
            photos,
            &ImportOptions::for_province(self.today(), &self.config.province),
        )
        .map_err(ImportError::Rejected)?;
        // Photos are downscaled for the chip before anything is written, so a photo
        // that cannot be made small enough refuses the whole import.
        let mut report = ImportReport::default();
        let mut chip_photos = Vec::with_capacity(rows.len());
        for row in &rows {
            match row
                .photo
                .as_deref()
                .map(ecard_domain::photo::downscale_for_chip)
                .transpose()
            {
                Ok(p) => chip_photos.push(p),
                Err(e) => {
                    report.issues.push(roster::ImportIssue {
                        sheet: "照片".into(),
                        row: Some(row.excel_row),
                        column: row.citizen_id.to_string(),
                        reason: e.to_string(),
                    });
                    chip_photos.push(None);
                }
            }
        }
        if !report.issues.is_empty() {
            return Err(ImportError::Rejected(report));
        }
        self.file_rows(actor, &rows, &chip_photos)
    }

    /// One new applicant by form (not only by spreadsheet): the template's columns
    /// as typed, checked by the roster's own row check and its photo check
    /// (`roster::check_form`, the same rules and words as an import), filed the
    /// same way as an imported row. The photo may come later
    /// (`Station::add_application_photo`).
    pub fn file_application(
        &self,
        actor: &str,
        form: &roster::RosterForm,
        photo: Option<&[u8]>,
    ) -> Result<ImportOutcome, ImportError> {
        let opts = ImportOptions::for_province(self.today(), &self.config.province);
        let row = roster::check_form(form, photo, &opts).map_err(ImportError::Rejected)?;
        let chip = match row
            .photo
            .as_deref()
            .map(ecard_domain::photo::downscale_for_chip)
            .transpose()
        {
            Ok(p) => p,
            Err(e) => {
                return Err(ImportError::Rejected(ImportReport {
                    issues: vec![roster::ImportIssue {
                        sheet: "照片".into(),
                        row: None,
                        column: row.citizen_id.to_string(),
                        reason: e.to_string(),
                    }],
                    ..Default::default()
                }))
            }
        };
        self.file_rows(actor, &[row], &[chip])
    }

    /// Records checked rows: each person's record (or a correction), one
    /// application per row queued for the registry, one transaction.
    fn file_rows(
        &self,
        actor: &str,
        rows: &[RosterRow],
        chip_photos: &[Option<Vec<u8>>],
    ) -> Result<ImportOutcome, ImportError> {
        let (ids, corrections) = self
            .store
            .write(actor, |tx| {
                let mut ids = Vec::with_capacity(rows.len());
                let mut corrections = Vec::new();
                for (row, photo) in rows.iter().zip(chip_photos) {
                    // A certified officer's record is not written over: the change
                    // becomes a correction that another operator decides.
                    let recorded = store::import_officer(tx, &holder_of(row), photo.as_deref())?;
                    corrections.extend(recorded.correction);
                    let officer = recorded.officer_id;
                    let event_id =
                        tx.outbox(&EventBody::ApplicationSubmitted(ApplicationSubmitted {
                            kind: row.kind,
                            row: Box::new(row.clone()),
                            photo_jpeg: photo
                                .as_ref()
                                .map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
                            defaults: None,
                        }))?;
                    ids.push(store::insert_application(tx, officer, row, &event_id)?);
                }
                tx.audit(
                    "roster.imported",
                    &format!("{} rows", rows.len()),
                    json!({ "applications": ids, "corrections": corrections }),
                )?;
                Ok((ids, corrections))
            })
            .map_err(OpError::from)?;
        Ok(ImportOutcome {
            imported: ids.len(),
            application_ids: ids,
            corrections,
        })
    }
}
