//! The `Case` aggregate.

use casetrack_platform::command::{Aggregate, Rejection};
use casetrack_proto::specialist::{CaseOpened, SpecialistEvent};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Case {
    #[default]
    NotOpened,
    Open,
}

impl Aggregate for Case {
    type Event = SpecialistEvent;
    const AGGREGATE: &'static str = "case";

    fn apply(self, event: &SpecialistEvent) -> Self {
        match event {
            SpecialistEvent::CaseOpened(_) => Case::Open,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseRejection {}

impl Rejection for CaseRejection {
    fn code(&self) -> &'static str {
        match *self {}
    }
}

/// Opens a case. Opening an open case does nothing: the intake reactor may see the same referral twice.
pub fn open(state: &Case, command: CaseOpened) -> Result<Vec<SpecialistEvent>, CaseRejection> {
    match state {
        Case::NotOpened => Ok(vec![SpecialistEvent::CaseOpened(command)]),
        Case::Open => Ok(vec![]),
    }
}

#[cfg(test)]
mod tests {
    use casetrack_proto::specialist::CaseOrigin;
    use casetrack_proto::{CaseId, PersonId, ServiceCode};

    use super::*;

    #[test]
    fn a_case_opens_once_and_a_second_opening_changes_nothing() {
        let command = CaseOpened {
            case_id: CaseId::new(),
            service: ServiceCode::parse("idva").unwrap(),
            person_id: PersonId::new(),
            origin: CaseOrigin::Direct { source: "police".into() },
        };
        let events = open(&Case::NotOpened, command.clone()).unwrap();
        assert_eq!(events.len(), 1);
        let state = Case::NotOpened.apply(&events[0]);
        assert_eq!(open(&state, command).unwrap(), vec![]);
    }
}
