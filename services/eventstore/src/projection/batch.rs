//! What a projection is handed: a [`Batch`] of commits, with what is worked out from them once for every projection
//! that reads it, and what its own run has [`Known`] so far.
//!
//! The batch knows no context: a projection asks for the events of its context's type ([`Batch::decoded`]), and
//! the first to ask for a type decodes them for every other projection of the batch.

use std::any::{Any, TypeId};
use std::sync::OnceLock;

use casetrack_proto::{Envelope, EventContract};
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{ProjectionError, decode};
use crate::log::{Commit, Position};

/// Commits in log order, as one transaction of a projection applies them. A rebuild hands the same batch to every
/// projection, so what they all need from it (which streams it begins, the events of the busy contexts decoded) is
/// worked out by the first to ask and shared.
pub struct Batch {
    commits: Vec<Commit>,
    begun: OnceLock<FxHashSet<Uuid>>,
    /// One slot per event type asked for, claimed by the first to ask: `E`'s type id and its
    /// `OnceCell<Decoded<E>>`. Slots are only ever set, never emptied, so what they hold lives as long as the batch.
    decoded: [OnceLock<(TypeId, Box<dyn Any + Send + Sync>)>; CONTEXTS],
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("commits", &self.commits.len()).finish_non_exhaustive()
    }
}

impl Batch {
    pub fn new(commits: Vec<Commit>) -> Self {
        Self { commits, begun: OnceLock::new(), decoded: Default::default() }
    }

    pub fn commits(&self) -> &[Commit] {
        &self.commits
    }

    /// Every event, in order, each with its commit's position.
    pub fn events(&self) -> impl Iterator<Item = (Position, &Envelope)> {
        crate::log::events(&self.commits)
    }

    /// The position of the last commit.
    pub fn last(&self) -> Option<Position> {
        self.commits.last().map(|commit| commit.position)
    }

    /// The ids of the streams the batch begins: those whose first event (version 1) it holds. A runner applies
    /// each event once, in log order, so nothing a projection keeps under such a stream's id can have been stored
    /// before the batch: those rows need no look-up. (Only rows the stream's own events create: a row keyed by the
    /// stream's id but made by another stream's events may well exist already.)
    pub fn begun(&self) -> &FxHashSet<Uuid> {
        self.begun.get_or_init(|| {
            self.events().filter(|(_, event)| event.version == 1).map(|(_, event)| event.subject.id()).collect()
        })
    }

    /// The events of context `E`, decoded: one entry per event of [`Batch::events`], in the same order, `None` for
    /// the other contexts'. An event of `E` that does not decode is poison for whoever asks ([`decode`]).
    pub async fn decoded<E: EventContract>(&self) -> Result<&[Option<E>], ProjectionError> {
        let decoded = self
            .cell::<E>()
            .get_or_init(|| async {
                let mut events = Vec::new();
                for (position, envelope) in self.events() {
                    match decode::<E>(position, envelope) {
                        Ok(event) => events.push(event),
                        Err(_) => return Decoded { poison: Some(events.len()), events },
                    }
                }
                Decoded { events, poison: None }
            })
            .await;
        match decoded.poison {
            None => Ok(&decoded.events),
            // Decoding is deterministic: the poison fails again, and its error is not kept (it cannot be cloned).
            Some(index) => {
                let (position, envelope) = self.events().nth(index).expect("the poison is in the batch");
                Err(decode::<E>(position, envelope).err().expect("the poison fails to decode again"))
            }
        }
    }
}

/// How many contexts' events one batch can hold decoded: more than Casetrack has.
const CONTEXTS: usize = 8;

impl Batch {
    /// The cell of `E`'s decoded events: the slot `E` claimed, or the first free one.
    fn cell<E: EventContract>(&self) -> &OnceCell<Decoded<E>> {
        let id = TypeId::of::<E>();
        self.decoded
            .iter()
            .find_map(|slot| {
                let (owner, cell) = slot.get_or_init(|| (id, Box::new(OnceCell::<Decoded<E>>::new())));
                (*owner == id)
                    .then(|| cell.downcast_ref::<OnceCell<Decoded<E>>>().expect("a slot holds its owner's cell"))
            })
            .expect("a batch holds the events of at most CONTEXTS contexts")
    }
}

/// A batch's events of one context, decoded up to the first that does not decode.
struct Decoded<E> {
    events: Vec<Option<E>>,
    poison: Option<usize>,
}

/// The keys under which one run of a projection has stored rows, by kind (`"person"`, say), as far as its
/// look-ups and writes need them. Complete only for a run that began with the projection's tables empty and has
/// applied every batch since (a rebuild): then a key it has not stored has no rows, so it needs no look-up, and its
/// row can be inserted rather than merged with one that might be there. A run that began anywhere else knows
/// nothing, and looks everything up.
///
/// A key noted for a batch that is then rolled back only costs a look-up that finds nothing; a rebuild stops at
/// any failure anyway.
#[derive(Debug, Default)]
pub struct Known {
    keys: Option<FxHashMap<&'static str, FxHashSet<u128>>>,
}

impl Known {
    /// For a run that did not begin with the tables empty.
    pub fn nothing() -> Self {
        Self { keys: None }
    }

    /// For a run that begins with the tables empty.
    pub fn from_empty() -> Self {
        Self { keys: Some(FxHashMap::default()) }
    }

    /// Whether rows of `kind` may be stored under `key`: false only when this run knows it stored none.
    pub fn may_have(&self, kind: &'static str, key: Uuid) -> bool {
        self.may_have_number(kind, key.as_u128())
    }

    /// Notes that rows of `kind` are being stored under `key`.
    pub fn store(&mut self, kind: &'static str, key: Uuid) {
        self.store_number(kind, key.as_u128());
    }

    /// As [`Known::may_have`], for a key of any kind (a count's row key, say), noted by its hash. Two keys with one
    /// hash are taken for one: a key may then be thought stored when it is not, which costs only a look-up or a
    /// merge that finds nothing. A key stored is never thought missing.
    pub fn may_have_key(&self, kind: &'static str, key: &impl std::hash::Hash) -> bool {
        self.may_have_number(kind, hash_of(key))
    }

    /// Notes that a row of `kind` is being stored under `key`, and answers as [`Known::may_have_key`] did before:
    /// whether one may have been stored under it already.
    pub fn store_key(&mut self, kind: &'static str, key: &impl std::hash::Hash) -> bool {
        match &mut self.keys {
            None => true,
            Some(keys) => !keys.entry(kind).or_default().insert(hash_of(key)),
        }
    }

    fn may_have_number(&self, kind: &'static str, key: u128) -> bool {
        match &self.keys {
            None => true,
            Some(keys) => keys.get(kind).is_some_and(|stored| stored.contains(&key)),
        }
    }

    fn store_number(&mut self, kind: &'static str, key: u128) {
        if let Some(keys) = &mut self.keys {
            keys.entry(kind).or_default().insert(key);
        }
    }
}

fn hash_of(key: &impl std::hash::Hash) -> u128 {
    use std::hash::BuildHasher as _;
    u128::from(rustc_hash::FxBuildHasher.hash_one(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_knows_only_what_it_stored_since_its_tables_were_empty() {
        let (person, other) = (Uuid::now_v7(), Uuid::now_v7());
        let mut live = Known::nothing();
        live.store("person", person);
        assert!(live.may_have("person", other), "a live run knows nothing: everything may be stored");
        let mut rebuild = Known::from_empty();
        assert!(!rebuild.may_have("person", person), "nothing is stored in emptied tables");
        rebuild.store("person", person);
        assert!(rebuild.may_have("person", person));
        assert!(!rebuild.may_have("person", other));
        assert!(!rebuild.may_have("linked", person), "each kind apart");
    }

    #[test]
    fn a_rebuild_knows_the_row_keys_it_stored() {
        let key = ("hub", "2026-04-01", "gender", "female", "contacted");
        let mut live = Known::nothing();
        assert!(live.may_have_key("count", &key), "a live run knows nothing: every row may be stored");
        assert!(live.store_key("count", &key));
        let mut rebuild = Known::from_empty();
        assert!(!rebuild.may_have_key("count", &key), "nothing is stored in emptied tables");
        assert!(!rebuild.store_key("count", &key), "stored for the first time");
        assert!(rebuild.may_have_key("count", &key));
        assert!(rebuild.store_key("count", &key), "stored again");
        assert!(!rebuild.may_have_key("count", &("hub", "2026-04-01", "gender", "male", "contacted")));
        assert!(!rebuild.may_have_key("tie", &key), "each kind apart");
    }
}
