//! Events of the people context: a person's identity and personal data, sealed with their key.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{PersonId, Sealed};

crate::contract! {
    /// Everything the people service records.
    pub enum PeopleEvent in "people" {
        PersonRegistered(PersonRegistered) = 1,
        DuplicateDecided(DuplicateDecided) = 1,
        PersonErased(PersonErased) = 1,
    }
}

/// A person became known to Casetrack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PersonRegistered {
    pub person_id: PersonId,
    /// Name, date of birth, contact details and address, sealed with the person's data key.
    pub details: Sealed,
    /// Keyed hash of the normalised name and date of birth, for duplicate matching without plaintext.
    pub match_key: String,
}

/// Someone decided whether another record with the same match key is the same person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DuplicateDecided {
    pub person_id: PersonId,
    pub other_person_id: PersonId,
    pub decision: DuplicateDecision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateDecision {
    /// The same person: their referrals count as one victim's (repeat victims).
    Linked,
    /// A different person who happens to share name and date of birth.
    Rejected,
}

/// A person's data key was destroyed: nothing sealed for them can be read again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PersonErased {
    pub person_id: PersonId,
    pub reason: ErasureReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErasureReason {
    /// The person asked (right to erasure).
    Request,
    /// The retention period after closure ran out.
    Retention,
}
