//! The intake reactor: the hub's onward referral to this service becomes a case.

use casetrack_eventstore::command::{CommandMeta, execute};
use casetrack_eventstore::log::EventLog;
use casetrack_eventstore::reactor::Reactor;
use casetrack_proto::hub::HubEvent;
use casetrack_proto::specialist::{CaseOpened, CaseOrigin};
use casetrack_proto::{CaseId, Envelope, EventContract, ServiceCode};
use futures::future::BoxFuture;

use crate::case::{Case, open};

pub struct Intake {
    service: ServiceCode,
    name: &'static str,
}

impl Intake {
    pub fn new(service: ServiceCode) -> Self {
        let name = crate::leak(format!("specialist.intake.{service}"));
        Self { service, name }
    }
}

impl Reactor for Intake {
    fn name(&self) -> &'static str {
        self.name
    }

    fn react<'a>(&'a self, log: &'a EventLog, envelope: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            if envelope.subject.context() != HubEvent::CONTEXT || envelope.event_type != "OnwardReferralMade" {
                return Ok(());
            }
            let HubEvent::OnwardReferralMade(referral) =
                HubEvent::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)?
            else {
                return Ok(());
            };
            if referral.target_service != self.service {
                return Ok(());
            }
            // Same event, same case id, same command id: a redelivered referral never opens a second case. The case
            // opens when the onward referral was made (`caused_by` dates the command at the event's `occurred_at`);
            // that time was checked when the hub recorded it, and a reactor has nobody to give a late reason, so it
            // is not weighed against the back-dating window again here.
            let case_id = CaseId(envelope.id.derive("specialist-case"));
            let meta = CommandMeta::caused_by(envelope, "open-specialist-case");
            let command = CaseOpened {
                case_id,
                service: self.service.clone(),
                person_id: referral.person_id,
                origin: CaseOrigin::Hub { referral_id: referral.referral_id, onward_event_id: envelope.id },
                safe_contact: referral.safe_contact,
                safe_times: referral.safe_times,
                domestic_abuse: referral.domestic_abuse,
                enhanced_rights: referral.enhanced_rights,
                age_band: referral.age_band,
                offence_category: None,
                nationality: None,
            };
            execute::<Case, _>(log, case_id.0, &meta, |state| open(state, command.clone())).await?;
            Ok(())
        })
    }
}
