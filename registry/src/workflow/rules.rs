//! The application workflow from the guides (DOMAIN.md "Lifecycle"), as pure rules:
//! a unit submits; for a county-level unit the county bureau reviews first and the
//! city bureau decides; a city-level unit is decided by the city bureau alone and a
//! province-level unit by the province department alone. A rejection carries a
//! reason and returns the application to the unit, which edits and resubmits. An
//! approved application may be sent back for editing once, at the unit's request,
//! while its card is not yet written.

use crate::storage::{Account, Role, Unit};
pub use crate::storage::{AppState, Level};
use thiserror::Error;

/// Who reviews a unit's applications, from the unit's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewPath {
    /// County-level unit: county first, then city.
    CountyThenCity,
    /// City-level unit: the city bureau alone.
    City,
    /// Province-level unit: the province department alone.
    Province,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransitionError {
    #[error("this level does not review this application now")]
    NotYourTurn,
    #[error("application is {0:?}")]
    WrongState(AppState),
    #[error("a rejection needs a reason")]
    ReasonRequired,
    #[error("already sent back once")]
    AlreadySentBack,
    #[error("the card is already written")]
    AlreadyIssued,
}

impl TransitionError {
    /// The Chinese message for people.
    pub fn message_zh(&self) -> String {
        match self {
            TransitionError::NotYourTurn => "当前不由您所在的层级审核该申请".into(),
            TransitionError::WrongState(s) => {
                format!(
                    "申请当前状态为“{}”，不能进行该操作",
                    // The one table of the states' words (pages and API alike).
                    crate::web::labels::state_zh(*s)
                )
            }
            TransitionError::ReasonRequired => "退回申请须填写原因".into(),
            TransitionError::AlreadySentBack => "该申请已退回修改过一次，不能再次退回".into(),
            TransitionError::AlreadyIssued => "证件已制发，不能退回修改".into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::NotYourTurn => "not_your_turn",
            TransitionError::WrongState(_) => "wrong_state",
            TransitionError::ReasonRequired => "reason_required",
            TransitionError::AlreadySentBack => "already_sent_back",
            TransitionError::AlreadyIssued => "already_issued",
        }
    }
}

/// May a rejected or returned application be edited by its unit?
pub fn editable(state: AppState) -> bool {
    matches!(state, AppState::Rejected | AppState::Returned)
}

/// The review level of a bureau account (`None` for units).
pub fn review_level(role: Role) -> Option<Level> {
    match role {
        Role::Unit | Role::Admin => None,
        Role::County => Some(Level::County),
        Role::City => Some(Level::City),
        Role::Province => Some(Level::Province),
    }
}

/// May `account` see (and, for bureaus, review) applications of `unit`?
pub fn oversees(account: &Account, unit: &Unit) -> bool {
    let region = account.region.as_deref().unwrap_or("");
    match account.role {
        Role::Unit => account.unit_id == Some(unit.id),
        Role::County => !unit.province_level && unit.region == region,
        Role::City => !unit.province_level && unit.region.starts_with(region),
        Role::Province => unit.province_level,
        // The registry's administrator keeps the lists, not the applications.
        Role::Admin => false,
    }
}

/// A reviewer's decision: approve, or reject with a reason.
pub fn decide(
    state: AppState,
    path: ReviewPath,
    level: Level,
    approve: bool,
    reason: Option<&str>,
) -> Result<AppState, TransitionError> {
    let turn = matches!(
        (path, level, state),
        (
            ReviewPath::CountyThenCity,
            Level::County,
            AppState::Submitted
        ) | (
            ReviewPath::CountyThenCity,
            Level::City,
            AppState::CountyApproved
        ) | (ReviewPath::City, Level::City, AppState::Submitted)
            | (ReviewPath::Province, Level::Province, AppState::Submitted)
    );
    if !turn {
        return Err(match state {
            AppState::Submitted | AppState::CountyApproved => TransitionError::NotYourTurn,
            other => TransitionError::WrongState(other),
        });
    }
    if !approve {
        if reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(TransitionError::ReasonRequired);
        }
        return Ok(AppState::Rejected);
    }
    Ok(if level == Level::County {
        AppState::CountyApproved
    } else {
        AppState::Approved
    })
}

/// The unit edits and resubmits a rejected or returned application.
pub fn resubmit(state: AppState) -> Result<AppState, TransitionError> {
    if editable(state) {
        Ok(AppState::Submitted)
    } else {
        Err(TransitionError::WrongState(state))
    }
}

/// Sends an approved application back for editing: once, and only before its card
/// is written.
pub fn send_back(
    state: AppState,
    times_sent_back: u32,
    issued: bool,
) -> Result<AppState, TransitionError> {
    if state != AppState::Approved {
        return Err(TransitionError::WrongState(state));
    }
    if times_sent_back >= 1 {
        return Err(TransitionError::AlreadySentBack);
    }
    if issued {
        return Err(TransitionError::AlreadyIssued);
    }
    Ok(AppState::Returned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppState::*;

    #[test]
    fn county_unit_goes_county_then_city() {
        let p = ReviewPath::CountyThenCity;
        assert_eq!(
            decide(Submitted, p, Level::City, true, None),
            Err(TransitionError::NotYourTurn)
        );
        let s = decide(Submitted, p, Level::County, true, None).expect("county");
        assert_eq!(s, CountyApproved);
        assert_eq!(
            decide(s, p, Level::County, true, None),
            Err(TransitionError::NotYourTurn)
        );
        assert_eq!(decide(s, p, Level::City, true, None), Ok(Approved));
    }

    #[test]
    fn one_level_paths() {
        assert_eq!(
            decide(Submitted, ReviewPath::City, Level::City, true, None),
            Ok(Approved)
        );
        assert_eq!(
            decide(Submitted, ReviewPath::Province, Level::Province, true, None),
            Ok(Approved)
        );
        assert_eq!(
            decide(Submitted, ReviewPath::Province, Level::City, true, None),
            Err(TransitionError::NotYourTurn)
        );
    }

    #[test]
    fn rejection_needs_a_reason_and_goes_back_for_editing() {
        let p = ReviewPath::CountyThenCity;
        assert_eq!(
            decide(Submitted, p, Level::County, false, Some("  ")),
            Err(TransitionError::ReasonRequired)
        );
        let s = decide(Submitted, p, Level::County, false, Some("照片不清晰")).expect("reject");
        assert_eq!(s, Rejected);
        assert!(editable(s));
        assert_eq!(resubmit(s), Ok(Submitted));
        assert_eq!(
            resubmit(Approved),
            Err(TransitionError::WrongState(Approved))
        );
    }

    #[test]
    fn send_back_only_once_and_before_issue() {
        assert_eq!(send_back(Approved, 0, false), Ok(Returned));
        assert_eq!(
            send_back(Approved, 1, false),
            Err(TransitionError::AlreadySentBack)
        );
        assert_eq!(
            send_back(Approved, 0, true),
            Err(TransitionError::AlreadyIssued)
        );
        assert_eq!(
            send_back(Submitted, 0, false),
            Err(TransitionError::WrongState(Submitted))
        );
    }
}
