//! The unit's follow-ups at the station to an application it sent to the
//! registry (docs/SYNC.md "Follow-ups"): edit one that came back (退回, the reason
//! shown) and send it for review again; add the photo it was filed without while it
//! is pending; ask that an approved one be sent back, which the reviewing bureau
//! does (「可由单位管理员在系统上申请退回，待复审的司法行政机关退回后…」).
//!
//! Each is checked here with the roster's own rules (`roster::check_form`, the
//! roster's photo check), then recorded with its outbox event in one transaction:
//! the registry applies it to that station's application or refuses it, and a
//! refusal comes back as the application's note (`store::follow_up_refused`).

use super::import::{holder_of, ImportError};
use super::{OpError, Station};
use crate::store::{self, ApplicationState, Conflict, FixedField, FollowUp, StationApplication};
use base64::Engine;
use ecard_domain::roster::{
    self, ApplicationKind, ImportIssue, ImportReport, RosterForm, RosterRow,
};
use ecard_sync_protocol::events::{ApplicationAmended, EventBody, SendBackRequested};

fn conflict(c: Conflict) -> ImportError {
    ImportError::Op(OpError::Conflict(c))
}

fn refused(column: &str, reason: impl Into<String>) -> ImportError {
    ImportError::Rejected(ImportReport {
        issues: vec![ImportIssue {
            sheet: roster::FORM_SHEET.into(),
            row: None,
            column: column.into(),
            reason: reason.into(),
        }],
        ..Default::default()
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Station {
    fn application_of(&self, id: i64) -> Result<StationApplication, ImportError> {
        Ok(self
            .store
            .read(|c| store::station_application(c, id))
            .map_err(OpError::from)?)
    }

    /// The chip-sized copy of a photo for `id_number`'s holder, after the roster's
    /// check of a photo file named after the ID (size, pixels, JPEG).
    fn checked_chip_photo(&self, id_number: &str, bytes: &[u8]) -> Result<Vec<u8>, ImportError> {
        let name = format!("{id_number}.jpg");
        if let Err(violations) = ecard_domain::photo::check_photo(
            &name,
            bytes,
            &self.config.province.photo,
            self.today(),
        ) {
            return Err(ImportError::Rejected(ImportReport {
                issues: violations
                    .into_iter()
                    .map(|v| ImportIssue {
                        sheet: "照片".into(),
                        row: None,
                        column: name.clone(),
                        reason: v.to_string(),
                    })
                    .collect(),
                ..Default::default()
            }));
        }
        ecard_domain::photo::downscale_for_chip(bytes).map_err(|e| refused(&name, e.to_string()))
    }

    /// The unit edits application `id` that came back (退回) and sends it for
    /// review again: a new form (a roster application only; checked as a roster
    /// row is, the same person), and/or a new photo; neither resubmits it as it was.
    pub fn resubmit_application(
        &self,
        actor: &str,
        id: i64,
        form: Option<&RosterForm>,
        photo: Option<&[u8]>,
    ) -> Result<(), ImportError> {
        let app = self.application_of(id)?;
        if !app.state.editable() {
            return Err(conflict(Conflict::ApplicationState {
                id,
                state: app.state,
                follow_up: FollowUp::Resubmit,
            }));
        }
        let officer = self
            .store
            .read(|c| store::officer(c, app.officer_id))
            .map_err(OpError::from)?;
        let row = match form {
            None => None,
            Some(_) if app.kind != ApplicationKind::New.as_str() => {
                return Err(conflict(Conflict::ApplicationFieldFixed {
                    id,
                    field: FixedField::SuccessionForm,
                }))
            }
            Some(form) => {
                let opts = roster::ImportOptions::for_province(self.today(), &self.config.province);
                let row = roster::check_form(form, photo, &opts).map_err(ImportError::Rejected)?;
                let before: Option<RosterRow> = serde_json::from_str(&app.row_json).ok();
                if row.citizen_id.as_str() != officer.holder.id_number {
                    return Err(conflict(Conflict::ApplicationFieldFixed {
                        id,
                        field: FixedField::CitizenId,
                    }));
                }
                if before.and_then(|b| b.certificate_number) != row.certificate_number {
                    return Err(conflict(Conflict::ApplicationFieldFixed {
                        id,
                        field: FixedField::PrefilledNumber,
                    }));
                }
                Some(row)
            }
        };
        let chip = photo
            .map(|p| self.checked_chip_photo(&officer.holder.id_number, p))
            .transpose()?;
        self.store
            .write(actor, |tx| {
                // The import's rule: a certified officer's record changes only
                // through a reviewed correction (this application does not count).
                if let Some(row) = &row {
                    store::record_applicant(tx, id, &holder_of(row), chip.as_deref())?;
                } else if let Some(chip) = &chip {
                    store::record_applicant(tx, id, &officer.holder, Some(chip))?;
                }
                let event = tx.outbox(&EventBody::ApplicationAmended(ApplicationAmended {
                    application_event: app.event_id.clone(),
                    row: row.clone().map(Box::new),
                    photo_jpeg: chip.as_deref().map(b64),
                    resubmit: true,
                }))?;
                store::application_resubmitted(tx, id, row.as_ref(), &event)
            })
            .map_err(OpError::from)?;
        Ok(())
    }

    /// Adds the photo a pending (待审核) application was filed without, or a better
    /// one, before it is approved.
    pub fn add_application_photo(
        &self,
        actor: &str,
        id: i64,
        photo: &[u8],
    ) -> Result<(), ImportError> {
        let app = self.application_of(id)?;
        if app.state != ApplicationState::Submitted {
            return Err(conflict(Conflict::ApplicationState {
                id,
                state: app.state,
                follow_up: FollowUp::AddPhoto,
            }));
        }
        let officer = self
            .store
            .read(|c| store::officer(c, app.officer_id))
            .map_err(OpError::from)?;
        let chip = self.checked_chip_photo(&officer.holder.id_number, photo)?;
        self.store
            .write(actor, |tx| {
                store::record_applicant(tx, id, &officer.holder, Some(&chip))?;
                let event = tx.outbox(&EventBody::ApplicationAmended(ApplicationAmended {
                    application_event: app.event_id.clone(),
                    row: None,
                    photo_jpeg: Some(b64(&chip)),
                    resubmit: false,
                }))?;
                store::application_photo_added(tx, id, &event)
            })
            .map_err(OpError::from)?;
        Ok(())
    }

    /// Asks the reviewing bureau to send approved application `id` back for
    /// editing (once, before its card is written: the registry's rule).
    pub fn request_send_back(&self, actor: &str, id: i64, reason: &str) -> Result<(), OpError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(super::Invalid::ReasonMissing.into());
        }
        let app = self.store.read(|c| store::station_application(c, id))?;
        if app.state != ApplicationState::Approved {
            return Err(OpError::Conflict(Conflict::ApplicationState {
                id,
                state: app.state,
                follow_up: FollowUp::RequestSendBack,
            }));
        }
        if app.send_back_request.is_some() {
            return Err(OpError::Conflict(Conflict::SendBackPending { id }));
        }
        self.store.write(actor, |tx| {
            let event = tx.outbox(&EventBody::SendBackRequested(SendBackRequested {
                application_event: app.event_id.clone(),
                reason: reason.to_owned(),
            }))?;
            store::send_back_requested(tx, id, reason, &event)
        })?;
        Ok(())
    }
}
