//! Bulk 换证: a unit renamed or merged into another, so every holder of its
//! certificates needs a new one under the new name (the guides: a new card when the
//! unit's name changes, even by one character). One 换证 per holder, each through
//! the one path (`Station::change_status`): the old certificate cancelled at once,
//! one application to the registry per holder.

use super::invalid::Invalid;
use super::{OpError, Station, StatusRequest};
use crate::store;
use serde::{Deserialize, Serialize};

/// Longest list of holders one request may name (a unit's staff; keeps one request
/// bounded).
pub const MAX_BULK_REPLACE: usize = 2000;

#[derive(Debug, Clone, Deserialize)]
pub struct BulkReplaceRequest {
    /// The holders' certificates; or, when empty, every issued or suspended
    /// certificate of `from_unit`.
    #[serde(default)]
    pub certificate_ids: Vec<i64>,
    #[serde(default)]
    pub from_unit: Option<String>,
    /// 换证原因, e.g. 单位名称变更.
    pub reason: String,
    /// The unit's new name (or the unit it merged into).
    pub unit: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub area: Option<String>,
}

/// What happened to one holder's certificate.
#[derive(Debug, Clone, Serialize)]
pub struct BulkReplaceItem {
    pub certificate_id: i64,
    /// The application filed for this holder.
    pub application_id: Option<i64>,
    /// Why this holder's 换证 was not recorded (another operator changed the
    /// certificate in between); `{code, message}`.
    pub error: Option<super::CardWriteFailure>,
}

impl Station {
    /// Files one 换证 per holder. Every named certificate is checked first: when one
    /// cannot be replaced (unknown, cancelled, not yet issued) nothing is recorded.
    pub async fn bulk_replace(
        &self,
        actor: &str,
        req: &BulkReplaceRequest,
    ) -> Result<Vec<BulkReplaceItem>, OpError> {
        if req.reason.trim().is_empty() {
            return Err(OpError::Invalid(Invalid::ReasonMissing));
        }
        if req.unit.trim().is_empty() {
            return Err(OpError::Invalid(Invalid::BulkReplace(
                "请填写新的执法单位名称".into(),
            )));
        }
        let ids = match req.from_unit.as_deref().map(str::trim) {
            Some(from) if req.certificate_ids.is_empty() && !from.is_empty() => self
                .store
                .read(|c| store::replaceable_certificates_of_unit(c, from))?,
            _ => req.certificate_ids.clone(),
        };
        if ids.is_empty() {
            return Err(OpError::Invalid(Invalid::BulkReplace(
                "没有可换证的证件：请选择证件，或填写原单位名称".into(),
            )));
        }
        if ids.len() > MAX_BULK_REPLACE {
            return Err(OpError::Invalid(Invalid::BulkReplace(format!(
                "一次最多为{MAX_BULK_REPLACE}人换证"
            ))));
        }
        let change = StatusRequest::Replace {
            position: None,
            occurred_on: None,
            reason: req.reason.clone(),
            unit: Some(req.unit.trim().to_owned()),
            posts: None,
            category: req.category.clone(),
            area: req.area.clone(),
            card_returned: false,
        };
        // The whole list is checked before anything changes, by the status change's
        // own rule (`StatusRequest::transition`).
        for id in &ids {
            let cert = self.store.read(|c| store::certificate(c, *id))?;
            change.transition(cert.state).map_err(OpError::Conflict)?;
        }
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let item = match self.change_status(actor, id, &change, None).await {
                Ok(out) => BulkReplaceItem {
                    certificate_id: id,
                    application_id: out.application_id,
                    error: None,
                },
                // The store failing (disk, database) stops the batch; the holders
                // already done were each committed, so the answer still lists them,
                // with this one's failure last, instead of losing them in an error.
                Err(OpError::Store(e)) if !matches!(e, store::StoreError::Conflict(_)) => {
                    let e = OpError::Store(e);
                    items.push(BulkReplaceItem {
                        certificate_id: id,
                        application_id: None,
                        error: Some(super::CardWriteFailure {
                            code: e.code(),
                            message: e.message_zh(),
                        }),
                    });
                    break;
                }
                Err(e) => BulkReplaceItem {
                    certificate_id: id,
                    application_id: None,
                    error: Some(super::CardWriteFailure {
                        code: e.code(),
                        message: e.message_zh(),
                    }),
                },
            };
            items.push(item);
        }
        Ok(items)
    }
}
