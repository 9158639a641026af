//! The `Referral` aggregate.

use std::collections::BTreeSet;

use casetrack_platform::command::Aggregate;
use casetrack_proto::hub::{HubEvent, OnwardReferralMade, ReferralReceived};
use casetrack_proto::{PersonId, ServiceCode};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Referral {
    #[default]
    NotReceived,
    Open {
        person_id: PersonId,
        referred_to: BTreeSet<ServiceCode>,
    },
}

impl Aggregate for Referral {
    type Event = HubEvent;
    const AGGREGATE: &'static str = "referral";

    fn apply(self, event: &HubEvent) -> Self {
        match (self, event) {
            (Referral::NotReceived, HubEvent::ReferralReceived(e)) => {
                Referral::Open { person_id: e.person_id, referred_to: BTreeSet::new() }
            }
            (Referral::Open { person_id, mut referred_to }, HubEvent::OnwardReferralMade(e)) => {
                referred_to.insert(e.target_service.clone());
                Referral::Open { person_id, referred_to }
            }
            (state, _) => state,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferralRejection {
    #[error("this referral has already been received")]
    AlreadyReceived,
    #[error("there is no such referral")]
    NotReceived,
    #[error("this referral has already been referred on to {0}")]
    AlreadyReferredOn(ServiceCode),
    #[error("the hub cannot refer a victim on to itself")]
    ReferToHub,
}

impl casetrack_platform::command::Rejection for ReferralRejection {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyReceived => "referral_already_received",
            Self::NotReceived => "referral_not_found",
            Self::AlreadyReferredOn(_) => "already_referred_on",
            Self::ReferToHub => "refer_on_to_hub",
        }
    }
}

pub fn receive(state: &Referral, command: ReferralReceived) -> Result<Vec<HubEvent>, ReferralRejection> {
    match state {
        Referral::NotReceived => Ok(vec![HubEvent::ReferralReceived(command)]),
        Referral::Open { .. } => Err(ReferralRejection::AlreadyReceived),
    }
}

pub fn refer_on(
    state: &Referral,
    referral_id: casetrack_proto::ReferralId,
    service: ServiceCode,
) -> Result<Vec<HubEvent>, ReferralRejection> {
    let Referral::Open { person_id, referred_to } = state else {
        return Err(ReferralRejection::NotReceived);
    };
    if service.as_str() == "hub" {
        return Err(ReferralRejection::ReferToHub);
    }
    if referred_to.contains(&service) {
        return Err(ReferralRejection::AlreadyReferredOn(service));
    }
    Ok(vec![HubEvent::OnwardReferralMade(OnwardReferralMade {
        referral_id,
        person_id: *person_id,
        target_service: service,
    })])
}

#[cfg(test)]
mod tests {
    use casetrack_proto::ReferralId;
    use casetrack_proto::hub::ReferralSource;

    use super::*;

    fn received(referral_id: ReferralId) -> ReferralReceived {
        ReferralReceived {
            referral_id,
            person_id: PersonId::new(),
            source: ReferralSource::PoliceFeed,
            offence_category: None,
            domestic_abuse: true,
            crime_reference: Some("CR/1".into()),
            crime_reported_on: None,
        }
    }

    fn given(events: &[HubEvent]) -> Referral {
        events.iter().fold(Referral::default(), |state, e| state.apply(e))
    }

    #[test]
    fn a_referral_is_received_once() {
        let id = ReferralId::new();
        let events = receive(&Referral::NotReceived, received(id)).unwrap();
        assert_eq!(receive(&given(&events), received(id)), Err(ReferralRejection::AlreadyReceived));
    }

    #[test]
    fn an_onward_referral_is_made_once_per_service() {
        let id = ReferralId::new();
        let idva = ServiceCode::parse("idva").unwrap();
        let mut events = receive(&Referral::NotReceived, received(id)).unwrap();
        events.extend(refer_on(&given(&events), id, idva.clone()).unwrap());
        assert_eq!(refer_on(&given(&events), id, idva.clone()), Err(ReferralRejection::AlreadyReferredOn(idva)));
        assert!(refer_on(&given(&events), id, ServiceCode::parse("isva").unwrap()).is_ok());
    }

    #[test]
    fn nothing_is_referred_on_before_it_is_received() {
        let refused = refer_on(&Referral::NotReceived, ReferralId::new(), ServiceCode::parse("idva").unwrap());
        assert_eq!(refused, Err(ReferralRejection::NotReceived));
        let to_hub = refer_on(
            &given(&receive(&Referral::NotReceived, received(ReferralId::new())).unwrap()),
            ReferralId::new(),
            ServiceCode::parse("hub").unwrap(),
        );
        assert_eq!(to_hub, Err(ReferralRejection::ReferToHub));
    }
}
