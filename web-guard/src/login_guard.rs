//! What stands in front of a password check: a growing delay after failed logins,
//! per account and per client address, and a bound on the password hashes running
//! at once (argon2id takes 19 MiB and a core's worth of time for each).
//!
//! Throttling: the first [`FREE_FAILURES`] - 1 failures cost nothing; the
//! [`FREE_FAILURES`]th and every later one block that account (and that client) for
//! 1 s, doubling with each further failure, at most [`MAX_DELAY_SECS`]. A blocked
//! login is answered `login_throttled` without looking at the password, so guessing
//! costs the guesser time and the station no hashing. A successful login clears its
//! account; a client's count fades when it stays quiet for [`FORGET_AFTER_SECS`].

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Failures allowed before the first delay.
pub const FREE_FAILURES: u32 = 5;
/// The longest delay, in seconds (5 minutes).
pub const MAX_DELAY_SECS: i64 = 300;
/// A client or account quiet this long after its delay has its count forgotten.
pub const FORGET_AFTER_SECS: i64 = 15 * 60;
/// Entries kept at most; beyond it new accounts are not counted (their client
/// still is), so a flood of invented usernames cannot exhaust memory.
const MAX_ENTRIES: usize = 10_000;

/// What a failure count is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A username as typed (trimmed, lower case): also names that do not exist,
    /// so the answer does not tell which do.
    Account(String),
    /// The client's address; `None` when the server does not know it (in-process).
    Client(Option<IpAddr>),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    blocked_until: DateTime<Utc>,
}

/// Failed logins per account and per client.
#[derive(Debug, Default, Clone)]
pub struct LoginThrottle {
    entries: Arc<Mutex<HashMap<Subject, Failures>>>,
}

fn delay_after(count: u32) -> TimeDelta {
    if count < FREE_FAILURES {
        return TimeDelta::zero();
    }
    let doublings = (count - FREE_FAILURES).min(16);
    TimeDelta::seconds((1i64 << doublings).min(MAX_DELAY_SECS))
}

impl LoginThrottle {
    /// Whole seconds (rounded up) until every subject may try again, or `None`.
    pub fn wait(&self, subjects: &[Subject], now: DateTime<Utc>) -> Option<i64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        subjects
            .iter()
            .filter_map(|s| entries.get(s))
            .map(|f| f.blocked_until - now)
            .filter(|left| *left > TimeDelta::zero())
            .max()
            .map(|left| (left.num_milliseconds() + 999) / 1000)
    }

    /// Counts a failed login against every subject.
    pub fn failed(&self, subjects: &[Subject], now: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let forget = TimeDelta::seconds(FORGET_AFTER_SECS);
            entries.retain(|_, f| f.blocked_until + forget > now);
        }
        for subject in subjects {
            let known = entries.contains_key(subject);
            if !known && entries.len() >= MAX_ENTRIES && matches!(subject, Subject::Account(_)) {
                continue;
            }
            let f = entries.entry(subject.clone()).or_insert(Failures {
                count: 0,
                blocked_until: now,
            });
            // A count that stayed quiet long enough starts over.
            if f.blocked_until + TimeDelta::seconds(FORGET_AFTER_SECS) <= now {
                f.count = 0;
            }
            f.count = f.count.saturating_add(1);
            f.blocked_until = now + delay_after(f.count);
        }
    }

    /// A successful login clears its account (not its client: one good account
    /// must not reset a client that guesses at others).
    pub fn succeeded(&self, account: &Subject) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
    }
}

/// The password hashes allowed at once, and how long a login waits for a turn.
#[derive(Debug, Clone)]
pub struct HashGate {
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// Two hashes at once: 38 MiB and both cores of a station at most.
pub const CONCURRENT_HASHES: usize = 2;

impl Default for HashGate {
    fn default() -> Self {
        Self::new(CONCURRENT_HASHES, Duration::from_secs(5))
    }
}

#[derive(Debug)]
pub enum GateError {
    /// No turn came within the wait.
    Busy,
    /// The blocking task died (a panic in the hasher).
    Failed,
}

impl HashGate {
    pub fn new(at_once: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(at_once)),
            wait,
        }
    }

    /// Runs `hash` on the blocking pool once a turn is free, holding the turn
    /// until it returns.
    pub async fn run<T: Send + 'static>(
        &self,
        hash: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, GateError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| GateError::Busy)?
                .map_err(|_| GateError::Busy)?,
        };
        let out = tokio::task::spawn_blocking(move || {
            let out = hash();
            drop(permit);
            out
        })
        .await
        .map_err(|_| GateError::Failed)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
    }

    fn s(secs: i64) -> DateTime<Utc> {
        t0() + TimeDelta::seconds(secs)
    }

    #[test]
    fn the_delay_starts_at_the_fifth_failure_doubles_and_stops_at_five_minutes() {
        let th = LoginThrottle::default();
        let who = [Subject::Account("guanli".into())];
        for _ in 0..4 {
            th.failed(&who, t0());
            assert_eq!(th.wait(&who, t0()), None);
        }
        th.failed(&who, t0());
        assert_eq!(th.wait(&who, t0()), Some(1));
        assert_eq!(th.wait(&who, s(1)), None);
        th.failed(&who, s(1));
        assert_eq!(th.wait(&who, s(1)), Some(2));
        let mut now = s(3);
        for _ in 0..20 {
            th.failed(&who, now);
            now += TimeDelta::seconds(MAX_DELAY_SECS);
        }
        let last = now - TimeDelta::seconds(MAX_DELAY_SECS);
        assert_eq!(th.wait(&who, last), Some(MAX_DELAY_SECS));
        assert_eq!(
            th.wait(&who, last + TimeDelta::milliseconds(500)),
            Some(MAX_DELAY_SECS)
        );
    }

    #[test]
    fn success_clears_the_account_but_not_the_client() {
        let th = LoginThrottle::default();
        let account = Subject::Account("guanli".into());
        let client = Subject::Client(Some("10.0.0.9".parse().unwrap()));
        for _ in 0..5 {
            th.failed(&[account.clone(), client.clone()], t0());
        }
        th.succeeded(&account);
        assert_eq!(th.wait(std::slice::from_ref(&account), t0()), None);
        assert_eq!(th.wait(std::slice::from_ref(&client), t0()), Some(1));
        // Another client is not held back for this one's guesses.
        let other = Subject::Client(Some("10.0.0.10".parse().unwrap()));
        assert_eq!(th.wait(&[account, other], t0()), None);
    }

    #[test]
    fn a_count_quiet_for_fifteen_minutes_starts_over() {
        let th = LoginThrottle::default();
        let who = [Subject::Client(None)];
        for _ in 0..7 {
            th.failed(&who, t0());
        }
        let later = s(4 + FORGET_AFTER_SECS);
        th.failed(&who, later);
        assert_eq!(
            th.wait(&who, later),
            None,
            "one failure after a quiet spell"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_gate_runs_at_most_its_bound_at_once_and_turns_away_the_rest() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = HashGate::new(2, Duration::ZERO);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..6).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            gate.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        let results = futures_util::future::join_all(jobs).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(GateError::Busy)))
            .count();
        assert_eq!(busy, 4);
        assert_eq!(most.load(Ordering::SeqCst), 2);
        // The turns come back: the next one runs.
        assert!(gate.run(|| ()).await.is_ok());
    }
}
