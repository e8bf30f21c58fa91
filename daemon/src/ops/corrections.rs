//! Corrections of a certified officer's record: listed, approved or rejected by an
//! operator other than the one who imported them (store::corrections keeps the
//! rule and the audit row with old and new values).

use super::{OpError, Station};
use crate::store::{self, CorrectionRow, CorrectionState};

impl Station {
    /// Corrections, newest first; only those in `state` when given.
    pub fn corrections(
        &self,
        state: Option<CorrectionState>,
    ) -> Result<Vec<CorrectionRow>, OpError> {
        Ok(self.store.read(|c| store::corrections(c, state))?)
    }

    /// Approves (the record takes the new values) or rejects (nothing changes) a
    /// pending correction.
    pub fn decide_correction(
        &self,
        actor: &str,
        id: i64,
        approve: bool,
        reason: Option<&str>,
    ) -> Result<CorrectionRow, OpError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        Ok(self.store.write(actor, |tx| {
            store::decide_correction(tx, id, approve, reason)
        })?)
    }
}
