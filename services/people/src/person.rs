//! The `Person` aggregate.

use casetrack_eventstore::command::{Aggregate, CommandError, CommandMeta, Executed, execute};
use casetrack_proto::people::{
    DuplicateDecided, DuplicateDecision, ErasureReason, PeopleEvent, PersonErased, PersonRegistered,
};
use casetrack_proto::{PersonId, Sealed};
use casetrack_vault::normalise;
use casetrack_web::Context;
use chrono::{Datelike as _, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) enum Person {
    #[default]
    Unknown,
    Registered,
    Erased,
}

impl Aggregate for Person {
    type Event = PeopleEvent;
    const AGGREGATE: &'static str = "person";

    fn apply(self, event: &PeopleEvent) -> Self {
        match event {
            PeopleEvent::PersonRegistered(_) => Person::Registered,
            PeopleEvent::DuplicateDecided(_) => self,
            PeopleEvent::PersonErased(_) => Person::Erased,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonRejection {
    #[error("this person is already registered")]
    AlreadyRegistered,
    #[error("this person's record has been erased")]
    Erased,
    #[error("there is no such person")]
    NotFound,
    #[error("a record cannot be a duplicate of itself")]
    SelfMatch,
    #[error("that record is not a candidate match for this person (a different name or date of birth)")]
    NotACandidate,
}

impl casetrack_eventstore::command::Rejection for PersonRejection {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRegistered => "person_already_registered",
            Self::Erased => "person_erased",
            Self::NotFound => "person_not_found",
            Self::SelfMatch => "self_match",
            Self::NotACandidate => "not_a_candidate",
        }
    }
}

/// Register a person whose details were sealed by the caller (with the id of the event that will carry them).
#[derive(Debug, Clone)]
pub(crate) struct RegisterPerson {
    pub person_id: PersonId,
    pub details: Sealed,
    pub match_key: String,
}

pub(crate) fn register(state: &Person, command: RegisterPerson) -> Result<Vec<PeopleEvent>, PersonRejection> {
    match state {
        Person::Unknown => Ok(vec![PeopleEvent::PersonRegistered(PersonRegistered {
            person_id: command.person_id,
            details: command.details,
            match_key: command.match_key,
        })]),
        Person::Registered => Err(PersonRejection::AlreadyRegistered),
        Person::Erased => Err(PersonRejection::Erased),
    }
}

/// Erases a registered person. The caller deletes their data key first (see [`erase_person`]).
pub(crate) fn erase(
    state: &Person,
    person_id: PersonId,
    reason: ErasureReason,
) -> Result<Vec<PeopleEvent>, PersonRejection> {
    match state {
        Person::Registered => Ok(vec![PeopleEvent::PersonErased(PersonErased { person_id, reason })]),
        Person::Unknown => Err(PersonRejection::NotFound),
        Person::Erased => Err(PersonRejection::Erased),
    }
}

/// Erasure end to end: the data key goes first (idempotent), then `PersonErased` is appended. If the append
/// fails, the details are already unreadable and a retry appends the event; the other order could leave a person
/// marked erased whose key still exists.
pub async fn erase_person(
    ctx: &Context,
    person_id: PersonId,
    reason: ErasureReason,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    let (state, _) = casetrack_eventstore::command::load::<Person>(&ctx.log, &Person::stream_id(person_id.0))
        .await
        .map_err(CommandError::Infrastructure)?;
    if state == Person::Unknown {
        return Err(CommandError::Rejected(PersonRejection::NotFound));
    }
    ctx.vault.erase(person_id).await.map_err(|e| CommandError::Infrastructure(e.into()))?;
    execute::<Person, _>(&ctx.log, person_id.0, meta, |state| erase(state, person_id, reason)).await
}

/// Records a person's decision on a candidate duplicate. `is_candidate` comes from the caller's look-up (same
/// match key, not erased): decisions stay pure.
pub(crate) fn decide_duplicate(
    state: &Person,
    person_id: PersonId,
    other: PersonId,
    is_candidate: bool,
    decision: DuplicateDecision,
) -> Result<Vec<PeopleEvent>, PersonRejection> {
    match state {
        Person::Unknown => return Err(PersonRejection::NotFound),
        Person::Erased => return Err(PersonRejection::Erased),
        Person::Registered => {}
    }
    if other == person_id {
        return Err(PersonRejection::SelfMatch);
    }
    if !is_candidate {
        return Err(PersonRejection::NotACandidate);
    }
    Ok(vec![PeopleEvent::DuplicateDecided(DuplicateDecided { person_id, other_person_id: other, decision })])
}

/// What is sealed inside `PersonRegistered`. Never logged, never in a URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersonalDetails {
    pub forename: String,
    pub surname: String,
    pub date_of_birth: NaiveDate,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub address_line: Option<String>,
    pub postcode: Option<String>,
}

impl PersonalDetails {
    /// The blind match key: keyed hash of normalised forename, surname and date of birth.
    pub fn match_key(&self, vault: &casetrack_vault::Vault) -> String {
        vault.blind_index(&format!("{} {}|{}", normalise(&self.forename), normalise(&self.surname), self.date_of_birth))
    }
}

/// A person's details as typed (API or form), before validation. Never logged.
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DetailsInput {
    pub forename: String,
    pub surname: String,
    /// YYYY-MM-DD
    pub date_of_birth: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
}

impl DetailsInput {
    /// The details as a page's form sends them (fields `forename`, `surname`, `date_of_birth`, `phone`, `email`,
    /// `postcode`).
    pub fn from_form(form: &casetrack_web::pages::FormData) -> Self {
        let optional = |name: &str| Some(form.get(name).to_owned());
        Self {
            forename: form.get("forename").to_owned(),
            surname: form.get("surname").to_owned(),
            date_of_birth: form.get("date_of_birth").to_owned(),
            phone: optional("phone"),
            email: optional("email"),
            postcode: optional("postcode"),
        }
    }
}

/// One thing wrong with typed details: which field, the rule's code, and what to do, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

/// Validates typed details, reporting every problem at once (a form shows them all).
pub fn parse_details(input: &DetailsInput, today: NaiveDate) -> Result<PersonalDetails, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut problem = |field, code, message: &str| problems.push(FieldProblem { field, code, message: message.into() });
    let forename = input.forename.trim().to_owned();
    let surname = input.surname.trim().to_owned();
    if forename.is_empty() {
        problem("forename", "name_required", "Enter the first name");
    }
    if surname.is_empty() {
        problem("surname", "name_required", "Enter the last name");
    }
    if forename.chars().count() > 100 || surname.chars().count() > 100 {
        problem("forename", "name_too_long", "A name can be at most 100 characters");
    }
    // NUL, line breaks and other control characters are never part of a name: they break exports, logs and the
    // duplicate match, and a police feed or a client can send them.
    for (field, name) in [("forename", &forename), ("surname", &surname)] {
        if name.chars().any(char::is_control) {
            problem(field, "name_control_characters", "A name can only hold letters, spaces and punctuation");
        }
    }
    let date_of_birth = match parse_day(&input.date_of_birth) {
        Some(day) if day > today => {
            problem("date_of_birth", "date_of_birth_in_future", "The date of birth must be in the past");
            None
        }
        Some(day) => Some(day),
        None => {
            problem(
                "date_of_birth",
                "date_of_birth_invalid",
                "Enter the date of birth as day, month and year, for example 23/04/1987",
            );
            None
        }
    };
    let tidy = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let phone = tidy(&input.phone);
    if phone.as_deref().is_some_and(|p| {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        !(7..=15).contains(&digits) || !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
    }) {
        problem("phone", "phone_invalid", "Enter a phone number, like 01632 960 001 or +44 7700 900 982");
    }
    let email = tidy(&input.email);
    if email.as_deref().is_some_and(|e| e.len() > 254 || !e.contains('@') || e.contains(char::is_whitespace)) {
        problem("email", "email_invalid", "Enter an email address in the correct format, like name@example.com");
    }
    let postcode = tidy(&input.postcode).map(|p| p.to_uppercase());
    if postcode.as_deref().is_some_and(|p| p.len() > 8 || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')) {
        problem("postcode", "postcode_invalid", "Enter a real postcode, like SW1A 1AA");
    }
    match date_of_birth {
        Some(date_of_birth) if problems.is_empty() => {
            Ok(PersonalDetails { forename, surname, date_of_birth, phone, email, address_line: None, postcode })
        }
        _ => Err(problems),
    }
}

/// A day as people write it in England and Wales (23/04/1987, 23-4-1987) or as ISO 8601 (1987-04-23).
fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
        .filter(|day| day.year() >= 1900)
}

/// Registers a person: creates their data key, seals their details into the event, appends.
pub async fn register_sealed(
    ctx: &Context,
    person_id: PersonId,
    details: &PersonalDetails,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    let infrastructure = |e: casetrack_vault::VaultError| CommandError::Infrastructure(e.into());
    let started = std::time::Instant::now();
    let key = ctx.vault.key_for(person_id).await.map_err(infrastructure)?;
    casetrack_eventstore::command::stages::since(casetrack_eventstore::command::stages::Stage::DataKey, started);
    let sealed = key.seal(meta.event_id(0), details).map_err(infrastructure)?;
    append_registration(ctx, person_id, sealed, details.match_key(&ctx.vault), meta).await
}

/// The same with the person's data key already in hand (imports fetch keys in batches).
pub async fn register_with_key(
    ctx: &Context,
    key: &casetrack_vault::DataKey,
    person_id: PersonId,
    details: &PersonalDetails,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    let sealed = key.seal(meta.event_id(0), details).map_err(|e| CommandError::Infrastructure(e.into()))?;
    append_registration(ctx, person_id, sealed, details.match_key(&ctx.vault), meta).await
}

async fn append_registration(
    ctx: &Context,
    person_id: PersonId,
    details: Sealed,
    match_key: String,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    let command = RegisterPerson { person_id, details, match_key };
    execute::<Person, _>(&ctx.log, person_id.0, meta, |state| register(state, command.clone())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two processes on one JetStream log decide on one person (each reads the subject's tip before deciding).
    #[tokio::test]
    async fn two_processes_decide_on_the_log_not_on_their_copies() {
        use casetrack_eventstore::testkit::TestStream;
        let stream = TestStream::new();
        two_processes_decide_on_one_person(stream.open().await, stream.open().await).await;
    }

    /// The same on one embedded log file, where each process decides first on its own copy of the stream, with no
    /// read: a copy that fell behind neither refuses what the log allows nor writes what it refuses.
    #[tokio::test]
    async fn two_processes_on_one_embedded_log_decide_on_the_file_not_on_their_copies() {
        use casetrack_eventstore::testkit::{TempDir, open_sqlite_log};
        let dir = TempDir::new();
        two_processes_decide_on_one_person(open_sqlite_log(dir.path()).await, open_sqlite_log(dir.path()).await).await;
    }

    async fn two_processes_decide_on_one_person(
        one: casetrack_eventstore::log::EventLog,
        two: casetrack_eventstore::log::EventLog,
    ) {
        let id = PersonId::new();
        let meta = || CommandMeta::new(casetrack_proto::Actor::system(), chrono::Utc::now());
        let registration = RegisterPerson { person_id: id, details: Sealed("v1.x".into()), match_key: "k".into() };
        execute::<Person, _>(&one, id.0, &meta(), |s| register(s, registration.clone())).await.unwrap();
        // `two` holds no copy: on its own it finds nobody to erase. The log has the person, so the erasure stands.
        execute::<Person, _>(&two, id.0, &meta(), |s| erase(s, id, ErasureReason::Request)).await.unwrap();
        // `one`'s copy still shows the person registered, where an erasure is allowed; the log refuses it.
        let again = execute::<Person, _>(&one, id.0, &meta(), |s| erase(s, id, ErasureReason::Request)).await;
        assert!(matches!(again, Err(CommandError::Rejected(PersonRejection::Erased))), "{again:?}");
        // And a registration decided on `two`'s copy (erased) is refused as the log says, not written.
        let twice = execute::<Person, _>(&two, id.0, &meta(), |s| register(s, registration.clone())).await;
        assert!(matches!(twice, Err(CommandError::Rejected(PersonRejection::Erased))), "{twice:?}");
        let stored = one.read_stream(&Person::stream_id(id.0)).await.unwrap();
        let types: Vec<&str> = stored.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["PersonRegistered", "PersonErased"]);
    }

    fn command() -> RegisterPerson {
        RegisterPerson { person_id: PersonId::new(), details: Sealed("v1.x".into()), match_key: "k".into() }
    }

    #[test]
    fn an_unknown_person_is_registered() {
        let events = register(&Person::Unknown, command()).unwrap();
        assert!(matches!(events.as_slice(), [PeopleEvent::PersonRegistered(_)]));
        assert_eq!(Person::Unknown.apply(&events[0]), Person::Registered);
    }

    #[test]
    fn only_a_registered_person_is_erased_and_only_once() {
        let id = PersonId::new();
        let events = erase(&Person::Registered, id, ErasureReason::Request).unwrap();
        assert_eq!(Person::Registered.apply(&events[0]), Person::Erased);
        assert_eq!(erase(&Person::Erased, id, ErasureReason::Request), Err(PersonRejection::Erased));
        assert_eq!(erase(&Person::Unknown, id, ErasureReason::Retention), Err(PersonRejection::NotFound));
    }

    #[test]
    fn a_duplicate_decision_needs_a_real_candidate() {
        let (me, other) = (PersonId::new(), PersonId::new());
        let link = DuplicateDecision::Linked;
        assert_eq!(decide_duplicate(&Person::Registered, me, me, true, link), Err(PersonRejection::SelfMatch));
        assert_eq!(decide_duplicate(&Person::Registered, me, other, false, link), Err(PersonRejection::NotACandidate));
        assert_eq!(decide_duplicate(&Person::Unknown, me, other, true, link), Err(PersonRejection::NotFound));
        assert_eq!(decide_duplicate(&Person::Erased, me, other, true, link), Err(PersonRejection::Erased));
        let events = decide_duplicate(&Person::Registered, me, other, true, DuplicateDecision::Rejected).unwrap();
        assert_eq!(Person::Registered.apply(&events[0]), Person::Registered);
    }

    #[test]
    fn typed_details_report_every_problem_with_its_field() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let input = DetailsInput {
            forename: " ".into(),
            surname: "Okafor".into(),
            date_of_birth: "31/02/1990".into(),
            phone: Some("call me".into()),
            email: Some("no-at-sign".into()),
            postcode: Some("<b>".into()),
        };
        let fields: Vec<&str> = parse_details(&input, today).unwrap_err().iter().map(|p| p.field).collect();
        assert_eq!(fields, ["forename", "date_of_birth", "phone", "email", "postcode"]);
        let good = DetailsInput {
            forename: "Ada".into(),
            surname: "Okafor".into(),
            date_of_birth: "1990-11-22".into(),
            phone: Some("+44 7700 900982".into()),
            email: Some(" ada@example.com ".into()),
            postcode: Some("sw1a 1aa".into()),
        };
        let details = parse_details(&good, today).unwrap();
        assert_eq!(
            (details.email.as_deref(), details.postcode.as_deref()),
            (Some("ada@example.com"), Some("SW1A 1AA"))
        );
        // Dates as people write them, and names with control characters refused (a NUL from a client or a feed).
        let written = DetailsInput { date_of_birth: "23/04/1987".into(), ..good.clone() };
        assert_eq!(
            parse_details(&written, today).unwrap().date_of_birth,
            NaiveDate::from_ymd_opt(1987, 4, 23).unwrap()
        );
        let nul = DetailsInput { forename: "Ad\u{0}a".into(), surname: "Oka\nfor".into(), ..good.clone() };
        let refused: Vec<&str> = parse_details(&nul, today).unwrap_err().iter().map(|p| p.code).collect();
        assert_eq!(refused, ["name_control_characters", "name_control_characters"]);
        let future = DetailsInput { date_of_birth: "2027-01-01".into(), ..good };
        assert_eq!(parse_details(&future, today).unwrap_err()[0].code, "date_of_birth_in_future");
    }

    #[test]
    fn a_person_is_registered_once() {
        assert_eq!(register(&Person::Registered, command()), Err(PersonRejection::AlreadyRegistered));
        assert_eq!(register(&Person::Erased, command()), Err(PersonRejection::Erased));
    }
}
