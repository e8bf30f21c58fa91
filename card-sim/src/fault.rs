//! Fault injection: "tear at APDU k", the card pulled out in the middle of a command.
//!
//! The counting lives here so that the in-process channel and the vpcd client tear
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
}
