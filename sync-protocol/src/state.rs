//! Where a certificate stands: the one lifecycle vocabulary of the station's records,
//! the registry's records and the messages between them, and the one table of what
//! each status change makes of a certificate.

use crate::events::StatusKind;
use serde::{Deserialize, Serialize};

/// A certificate's state, as stored (`as_str`) by the station and the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateState {
    /// Approved, no card written yet.
    Approved,
    Issued,
    /// 暂停执法 (reversible).
    Suspended,
    /// 注销.
    Cancelled,
    /// 补证: the number was declared void after a loss.
    Void,
    /// 换证: cancelled for a new certificate.
    Replaced,
}

impl CertificateState {
    pub const ALL: [CertificateState; 6] = [
        CertificateState::Approved,
        CertificateState::Issued,
        CertificateState::Suspended,
        CertificateState::Cancelled,
        CertificateState::Void,
        CertificateState::Replaced,
    ];

    /// The stable code, as stored in both databases.
    pub const fn as_str(self) -> &'static str {
        match self {
            CertificateState::Approved => "approved",
            CertificateState::Issued => "issued",
            CertificateState::Suspended => "suspended",
            CertificateState::Cancelled => "cancelled",
            CertificateState::Void => "void",
            CertificateState::Replaced => "replaced",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }
}

impl StatusKind {
    /// Whether this change applies to a certificate in state `from`: suspend an
    /// issued one, lift a suspended one, cancel anything not yet ended (an approved
    /// one too: its card will never be written), replace or re-issue an issued or
    /// suspended one.
    pub const fn applies_to(self, from: CertificateState) -> bool {
        use CertificateState::*;
        match self {
            StatusKind::Suspend => matches!(from, Issued),
            StatusKind::Lift => matches!(from, Suspended),
            StatusKind::Cancel => matches!(from, Issued | Suspended | Approved),
            StatusKind::Replace | StatusKind::Reissue => matches!(from, Issued | Suspended),
        }
    }

    /// The state a certificate is in after this change (whoever records it).
    pub const fn state_after(self) -> CertificateState {
        match self {
            StatusKind::Suspend => CertificateState::Suspended,
            StatusKind::Lift => CertificateState::Issued,
            StatusKind::Cancel => CertificateState::Cancelled,
            StatusKind::Replace => CertificateState::Replaced,
            StatusKind::Reissue => CertificateState::Void,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_its_code_and_serde() {
        for s in CertificateState::ALL {
            assert_eq!(CertificateState::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).expect("encode"),
                serde_json::Value::String(s.as_str().into())
            );
        }
        assert_eq!(CertificateState::parse("live"), None);
    }

    #[test]
    fn an_ended_certificate_takes_no_further_change() {
        for from in [
            CertificateState::Cancelled,
            CertificateState::Void,
            CertificateState::Replaced,
        ] {
            for k in StatusKind::ALL {
                assert!(!k.applies_to(from), "{k:?} from {from:?}");
            }
        }
        assert!(StatusKind::Cancel.applies_to(CertificateState::Approved));
        assert!(!StatusKind::Suspend.applies_to(CertificateState::Approved));
        assert!(!StatusKind::Lift.applies_to(CertificateState::Issued));
    }

    #[test]
    fn a_change_that_revokes_leaves_a_state_that_is_not_in_force() {
        for k in StatusKind::ALL {
            let after = k.state_after();
            assert_eq!(
                k.revokes(),
                matches!(
                    after,
                    CertificateState::Cancelled
                        | CertificateState::Void
                        | CertificateState::Replaced
                ),
                "{k:?}"
            );
        }
        assert_eq!(StatusKind::Lift.state_after(), CertificateState::Issued);
        assert_eq!(
            StatusKind::Suspend.state_after(),
            CertificateState::Suspended
        );
    }
}
