//! History brought in from another case system, as both pathways answer it: each record's facts go through the
//! same rules as live work, and either every fact is written (or was already) or the first refused one is named.

/// A fact the rules refused: which one (its index in the record's facts), and the refusal.
#[derive(Debug)]
pub struct Refused<E> {
    pub fact: usize,
    pub error: E,
}

/// What bringing a record's history in did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroughtIn {
    /// Written (from the first fact, or completing an import stopped part way), up to this log position.
    Written { position: u64, completed: bool },
    /// Every fact was there already.
    AlreadyThere,
}
