//! The `Person` aggregate.

use casetrack_platform::command::Aggregate;
use casetrack_proto::people::{PeopleEvent, PersonRegistered};
use casetrack_proto::{PersonId, Sealed};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Person {
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
}

impl casetrack_platform::command::Rejection for PersonRejection {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRegistered => "person_already_registered",
            Self::Erased => "person_erased",
        }
    }
}

/// Register a person whose details were sealed by the caller (with the id of the event that will carry them).
#[derive(Debug, Clone)]
pub struct RegisterPerson {
    pub person_id: PersonId,
    pub details: Sealed,
    pub match_key: String,
}

pub fn register(state: &Person, command: RegisterPerson) -> Result<Vec<PeopleEvent>, PersonRejection> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_person_is_registered_once() {
        assert_eq!(register(&Person::Registered, command()), Err(PersonRejection::AlreadyRegistered));
        assert_eq!(register(&Person::Erased, command()), Err(PersonRejection::Erased));
    }
}
