//! Fault injection: "tear at APDU k", the card pulled out in the middle of a command,
//! and "silent from APDU k", a card that stays in the reader but stops answering
//! (never replies, or replies with an empty frame).
//!
//! The counting lives here so that the in-process channel and the vpcd client fault
//! at the same APDU for the same k; what a tear does to the card is
//! [`crate::SimCard::tear`].

/// Counts the APDUs that reach the card and says which one loses power.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TearPlan {
    at: Option<u64>,
    seen: u64,
}

impl TearPlan {
    /// No fault: every APDU completes.
    pub fn never() -> Self {
        Self::default()
    }

    /// Power is lost during APDU `k` (0-based, counting from now).
    pub fn at(k: u64) -> Self {
        Self {
            at: Some(k),
            seen: 0,
        }
    }

    /// Tear at APDU `k` counted from the same start as the APDUs seen so far.
    pub fn set(&mut self, k: Option<u64>) {
        self.at = k;
    }

    /// APDUs that reached the card so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Registers one more APDU; true when it is the one that tears.
    pub fn next_tears(&mut self) -> bool {
        let index = self.seen;
        self.seen += 1;
        self.at == Some(index)
    }
}

/// How a silent card fails to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silence {
    /// The command is received and never answered (a hung chip: the reader waits).
    Mute,
    /// The command is answered with zero bytes: no data, no status word.
    Empty,
}

/// Counts the APDUs that reach the card and says from which one on it stays silent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SilencePlan {
    from: Option<(u64, Silence)>,
    seen: u64,
}

impl SilencePlan {
    /// No fault: every APDU is answered.
    pub fn never() -> Self {
        Self::default()
    }

    /// APDU `k` (0-based, counting from now) and every later one go unanswered.
    pub fn from(k: u64, how: Silence) -> Self {
        Self {
            from: Some((k, how)),
            seen: 0,
        }
    }

    /// Registers one more APDU; `Some` when it goes unanswered, and how.
    pub fn next_silent(&mut self) -> Option<Silence> {
        let index = self.seen;
        self.seen += 1;
        match self.from {
            Some((k, how)) if index >= k => Some(how),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tears_exactly_once_at_k() {
        let mut plan = TearPlan::at(2);
        let hits: Vec<bool> = (0..5).map(|_| plan.next_tears()).collect();
        assert_eq!(hits, [false, false, true, false, false]);
        let mut never = TearPlan::never();
        assert!((0..5).all(|_| !never.next_tears()));
    }

    #[test]
    fn silent_from_k_on_and_never_before() {
        let mut plan = SilencePlan::from(2, Silence::Mute);
        let hits: Vec<Option<Silence>> = (0..4).map(|_| plan.next_silent()).collect();
        assert_eq!(hits, [None, None, Some(Silence::Mute), Some(Silence::Mute)]);
        let mut never = SilencePlan::never();
        assert!((0..5).all(|_| never.next_silent().is_none()));
    }
}
