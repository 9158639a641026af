//! People's published interface: the one way another service reaches the people service, besides the log.
//!
//! Services meet only through the log and this module (docs/adr/0008-services-meet-only-through-the-log.md): the
//! hub, the specialist services and access call these functions; nobody reads the people service's tables or
//! calls into its other modules. Inputs are typed (ids and codes of `casetrack-proto`, details parsed once by
//! [`parse_details`]); every command appends to the person's own stream, so a service running as a process of its
//! own sees the result through the log like everyone else.
//!
//! - registering: [`parse_details`], [`register`], [`register_with_key`], [`register_as_signed_in`];
//! - reading one person: [`details`], [`candidates`], [`export`];
//! - deciding on a candidate duplicate: [`decide_duplicate`];
//! - whether a record may be opened for someone: [`standing`];
//! - erasure: [`erase`].

use casetrack_eventstore::command::{Aggregate as _, CommandError, CommandMeta, Executed, load};
use casetrack_proto::PersonId;
use casetrack_proto::people::{DuplicateDecision, ErasureReason};
use casetrack_vault::DataKey;
use casetrack_web::Context;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;

pub use crate::api::{PersonRegisteredResponse, RegisterPersonRequest};
pub use crate::export::SubjectAccessExport;
pub use crate::person::{DetailsInput, FieldProblem, PersonRejection, PersonalDetails};
pub use crate::records::{Candidate, PersonRecord};

/// Where a person stands, read from their own stream in the log (never a read model, so someone registered a moment
/// ago is found, and an erasure a moment ago is seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Nobody is registered under the id.
    Unknown,
    Registered,
    /// Erased: their details are gone for good, and nothing new may be recorded about them.
    Erased,
}

impl Standing {
    /// Why no new referral or case may be opened for this person, in plain words (422); `None` when one may.
    pub fn refusal(self) -> Option<ApiError> {
        match self {
            Self::Registered => None,
            Self::Unknown => Some(ApiError::rejected(
                "person_unknown",
                "nobody is registered under this person id: register the person first",
            )),
            Self::Erased => Some(ApiError::rejected(
                "person_erased",
                "this person's details were erased: nothing new can be recorded about them",
            )),
        }
    }
}

/// Where `person_id` stands ([`Standing`]).
pub async fn standing(ctx: &Context, person_id: PersonId) -> anyhow::Result<Standing> {
    let stream = crate::person::Person::stream_id(person_id.0);
    let (person, _) = load::<crate::person::Person>(&ctx.log, &stream).await?;
    Ok(match person {
        crate::person::Person::Unknown => Standing::Unknown,
        crate::person::Person::Registered => Standing::Registered,
        crate::person::Person::Erased => Standing::Erased,
    })
}

/// Validates details as typed (a form or an API request), reporting every problem at once.
pub fn parse_details(input: &DetailsInput, today: NaiveDate) -> Result<PersonalDetails, Vec<FieldProblem>> {
    crate::person::parse_details(input, today)
}

/// Registers a person under `person_id`: creates their data key, seals their details into the event, appends.
pub async fn register(
    ctx: &Context,
    person_id: PersonId,
    details: &PersonalDetails,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    crate::person::register_sealed(ctx, person_id, details, meta).await
}

/// The same with the person's data key already in hand (imports fetch keys in batches).
pub async fn register_with_key(
    ctx: &Context,
    key: &DataKey,
    person_id: PersonId,
    details: &PersonalDetails,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    crate::person::register_with_key(ctx, key, person_id, details, meta).await
}

/// Registers a person from details as typed, under a new id, as the signed-in user (what `POST /api/people` does).
pub async fn register_as_signed_in(
    ctx: &Context,
    request: &RegisterPersonRequest,
) -> Result<PersonRegisteredResponse, ApiError> {
    crate::api::register(ctx, request).await
}

/// A person's registered details, opened with their key (or that they are erased, or unknown).
pub async fn details(ctx: &Context, person_id: PersonId) -> anyhow::Result<PersonRecord> {
    crate::records::details(ctx, person_id).await
}

/// Candidate duplicates of a person, oldest first; `None` when the person is not (yet) known.
pub async fn candidates(ctx: &Context, person_id: PersonId) -> sqlx::Result<Option<Vec<Candidate>>> {
    crate::records::candidates(ctx, person_id).await
}

/// Records whether `other` is the same person as `person_id` (it must be a candidate: same match key, not erased).
pub async fn decide_duplicate(
    ctx: &Context,
    person_id: PersonId,
    other: PersonId,
    decision: DuplicateDecision,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    crate::records::decide(ctx, person_id, other, decision, meta).await
}

/// Erases a person: their data key goes first, then `PersonErased` is appended. Nothing sealed for them can be
/// read again; every service's read models drop what identifies them when the event reaches them.
pub async fn erase(
    ctx: &Context,
    person_id: PersonId,
    reason: ErasureReason,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    crate::person::erase_person(ctx, person_id, reason, meta).await
}

/// Everything the people service holds about a person (their subject-access export); `None` when there is no such
/// person.
pub async fn export(ctx: &Context, person_id: PersonId) -> anyhow::Result<Option<SubjectAccessExport>> {
    crate::export::export(ctx, person_id).await
}

/// The people registered (and not erased) under a name and date of birth, found by their blind match key: the
/// typed name is normalised and keyed exactly as at registration, so only an exact normalised match is found and
/// no plaintext is ever compared (the pages' "find by name").
pub async fn matching(
    ctx: &Context,
    forename: &str,
    surname: &str,
    date_of_birth: NaiveDate,
) -> sqlx::Result<Vec<PersonId>> {
    use casetrack_vault::normalise;
    let key = ctx.vault.blind_index(&format!("{} {}|{}", normalise(forename), normalise(surname), date_of_birth));
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT person_id FROM people WHERE match_key = $1 AND erased_at IS NULL ORDER BY person_id")
            .bind(key)
            .fetch_all(ctx.db.pool())
            .await?;
    Ok(ids.into_iter().filter_map(|(id,)| id.parse().ok()).collect())
}
