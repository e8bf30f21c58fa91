//! Field-check policy: how old a revocation list a verifier may rely on.
//!
//! A card can only be called 有效 when the verifier knows it was not cancelled:
//! with no revocation list, or one older than the configured limit, a cancelled
//! card that still reads fine would pass. So such a check ends 无法确认 (the
//! verifier's `Standing::Unconfirmed`) with the reason shown, never 有效. The limit
//! is the station admin's to set, below a hard maximum no setting can exceed
//! (docs/DOMAIN-RULES.md "Field checks").
//!
//! The annual-review years a verifier counts are `validity::check_review_year`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The limit a station starts with (days).
pub const DEFAULT_MAX_REVOCATION_AGE_DAYS: i64 = 7;
/// No configuration may allow an older list than this (days): beyond it a
/// cancellation could go unnoticed for longer than the guides' 10 working days
/// for records to reach the provincial system, twice over.
pub const HARD_MAX_REVOCATION_AGE_DAYS: i64 = 30;

/// Why a revocation-list age limit cannot be set. `Display` is the Chinese message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevocationAgeError {
    #[error("注销名单有效天数须在 1 到 {max} 之间（{max} 天为上限，不能调高）")]
    OutOfRange { days: i64, max: i64 },
}

/// Checks a limit an admin wants to set: 1 ..= [`HARD_MAX_REVOCATION_AGE_DAYS`].
pub fn check_max_revocation_age(days: i64) -> Result<i64, RevocationAgeError> {
    if (1..=HARD_MAX_REVOCATION_AGE_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(RevocationAgeError::OutOfRange {
            days,
            max: HARD_MAX_REVOCATION_AGE_DAYS,
        })
    }
}

/// What a verifier may conclude from its revocation list's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ListAge {
    /// Recent enough: a card not on it is not cancelled (as far as anyone knows).
    Fresh,
    /// Older than the limit: standing 无法确认.
    Stale { age_days: i64, max_days: i64 },
    /// No list at all: standing 无法确认.
    Missing,
}

/// The one rule: a list dated `list_date` on `today`, under the configured
/// `max_days` — which is held to 0 ..= [`HARD_MAX_REVOCATION_AGE_DAYS`] here too,
/// so that a setting written around the admin check (a hand-edited database)
/// cannot stretch it. A list dated after `today` (clocks apart) is fresh.
pub fn revocation_list_age(
    list_date: Option<NaiveDate>,
    today: NaiveDate,
    max_days: i64,
) -> ListAge {
    let Some(date) = list_date else {
        return ListAge::Missing;
    };
    let max_days = max_days.clamp(0, HARD_MAX_REVOCATION_AGE_DAYS);
    let age_days = (today - date).num_days();
    if age_days > max_days {
        ListAge::Stale { age_days, max_days }
    } else {
        ListAge::Fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn a_list_within_the_limit_is_fresh_and_one_day_over_is_stale() {
        let today = d(2026, 11, 23);
        assert_eq!(revocation_list_age(Some(today), today, 7), ListAge::Fresh);
        assert_eq!(
            revocation_list_age(Some(d(2026, 11, 16)), today, 7),
            ListAge::Fresh
        );
        assert_eq!(
            revocation_list_age(Some(d(2026, 11, 15)), today, 7),
            ListAge::Stale {
                age_days: 8,
                max_days: 7
            }
        );
        assert_eq!(revocation_list_age(None, today, 7), ListAge::Missing);
        assert_eq!(
            revocation_list_age(Some(d(2026, 11, 30)), today, 7),
            ListAge::Fresh
        );
    }

    #[test]
    fn the_hard_maximum_holds_whatever_is_configured() {
        let today = d(2026, 11, 23);
        let old = today - chrono::Days::new(31);
        assert_eq!(
            revocation_list_age(Some(old), today, 365),
            ListAge::Stale {
                age_days: 31,
                max_days: HARD_MAX_REVOCATION_AGE_DAYS
            }
        );
        assert!(check_max_revocation_age(HARD_MAX_REVOCATION_AGE_DAYS).is_ok());
        assert_eq!(
            check_max_revocation_age(31),
            Err(RevocationAgeError::OutOfRange { days: 31, max: 30 })
        );
        assert!(check_max_revocation_age(0).is_err());
        assert!(check_max_revocation_age(-1).is_err());
    }

    proptest! {
        /// Fresh exactly when a list exists and is at most min(limit, hard max)
        /// days old; never fresh beyond the hard maximum.
        #[test]
        fn fresh_iff_within_the_effective_limit(age in -400i64..400, max in -10i64..400) {
            let today = d(2026, 11, 23);
            let date = today - chrono::Duration::days(age);
            let got = revocation_list_age(Some(date), today, max);
            let effective = max.clamp(0, HARD_MAX_REVOCATION_AGE_DAYS);
            prop_assert_eq!(got == ListAge::Fresh, age <= effective);
            if age > HARD_MAX_REVOCATION_AGE_DAYS {
                prop_assert_ne!(got, ListAge::Fresh);
            }
        }

        #[test]
        fn only_limits_up_to_the_hard_maximum_can_be_set(days in -1000i64..1000) {
            prop_assert_eq!(
                check_max_revocation_age(days).is_ok(),
                (1..=HARD_MAX_REVOCATION_AGE_DAYS).contains(&days)
            );
        }
    }
}
