//! `hub.referrals`: the hub's referrals and the outcome of each onward referral, the facts the work queues sort
//! and filter on, and the repeat-victim flag (another referral of the same or a linked person received in the 12
//! months before this one; links are the people service's duplicate decisions, followed here so a rebuild of this
//! projection alone gives the same flags).
//!
//! A batch is applied in three steps: the rows its events touch are read up front, a few hundred keys a statement;
//! the events are folded into them in memory, in order, as the statements they replace would have changed them;
//! the changed rows are written back many a statement. The cost of a batch grows with the rows it touches, not its
//! events, and a rebuild, which hands over thousands of events at once, writes each row a few times in all.
//!
//! This file gathers a batch's events and the keys of the rows they touch, and runs the steps; [`rows`] holds the
//! tables' rows, [`fold`] what each event does to them.

use std::collections::BTreeSet;

use casetrack_eventstore::projection::{Batch, Known, Projection, ProjectionError};
use casetrack_proto::Envelope;
use casetrack_proto::hub::HubEvent;
use casetrack_proto::people::PeopleEvent;
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use sqlx::AnyConnection;
use uuid::Uuid;

use fold::{Fold, loop_status};

mod fold;
mod rows;
#[cfg(test)]
mod tests;

pub struct Referrals;

/// An event of a batch this projection reads, decoded once.
enum Read<'a> {
    Hub(&'a Envelope, &'a HubEvent),
    People(&'a PeopleEvent),
    Specialist(&'a Envelope, &'a SpecialistEvent),
}

/// What a rebuild notes it has stored ([`Known`]): referrals, people with referrals, people with links, onward
/// referrals by referral, and by case.
const REFERRAL: &str = "referral";
const PERSON: &str = "person";
const LINKED: &str = "linked";
const ONWARD: &str = "onward";
const ONWARD_CASE: &str = "onward_case";

#[async_trait::async_trait]
impl Projection for Referrals {
    fn name(&self) -> &'static str {
        "hub.referrals"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["hub_referrals", "hub_onward_referrals", "hub_contact_attempts", "hub_person_links"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, known: &mut Known) -> Result<(), ProjectionError> {
        // What the batch says, and the keys of the rows it touches.
        let hub = batch.decoded::<HubEvent>().await?;
        let people_events = batch.decoded::<PeopleEvent>().await?;
        let specialist = batch.decoded::<SpecialistEvent>().await?;
        let mut read = Vec::new();
        let mut referral_ids = BTreeSet::new();
        let mut received_by = BTreeSet::new();
        let mut decided = BTreeSet::new();
        let mut erased = BTreeSet::new();
        let mut onward_referrals = BTreeSet::new();
        let mut onward_cases = BTreeSet::new();
        // What this batch stores, for a rebuild's `known`: referrals received, onward referrals made, and
        // cases opened from a hub referral.
        let (mut received, mut made, mut opened) = (Vec::new(), Vec::new(), Vec::new());
        let decoded = hub.iter().zip(people_events).zip(specialist);
        for ((_, envelope), ((hub, people), specialist)) in batch.events().zip(decoded) {
            if let Some(event) = hub {
                referral_ids.insert(envelope.subject.id());
                match event {
                    HubEvent::ReferralReceived(e) => {
                        received_by.insert(e.person_id.0);
                        received.push(envelope.subject.id());
                    }
                    HubEvent::OnwardReferralMade(_) => {
                        onward_referrals.insert(envelope.subject.id());
                        made.push(envelope.subject.id());
                    }
                    _ => {}
                }
                read.push(Read::Hub(envelope, event));
            } else if let Some(event) = people {
                match event {
                    PeopleEvent::DuplicateDecided(e) => {
                        decided.insert(e.person_id.0);
                        decided.insert(e.other_person_id.0);
                    }
                    PeopleEvent::PersonErased(e) => {
                        erased.insert(e.person_id.0);
                    }
                    _ => continue,
                }
                read.push(Read::People(event));
            } else if let Some(event) = specialist {
                match event {
                    SpecialistEvent::CaseOpened(e) => match &e.origin {
                        CaseOrigin::Hub { referral_id, .. } => {
                            opened.push(e.case_id.0);
                            onward_referrals.insert(referral_id.0)
                        }
                        CaseOrigin::Direct { .. } => continue,
                    },
                    SpecialistEvent::CaseClosed(e) => onward_cases.insert(e.case_id.0),
                    other => match loop_status(other) {
                        Some((case_id, _)) => onward_cases.insert(case_id.0),
                        None => continue,
                    },
                };
                read.push(Read::Specialist(envelope, event));
            }
        }
        if read.is_empty() {
            return Ok(());
        }
        // Rows are read only under keys that may have some: in a rebuild, those this run has stored.
        let stored = |kind: &'static str, ids: &BTreeSet<Uuid>| -> BTreeSet<String> {
            ids.iter().filter(|id| known.may_have(kind, **id)).map(Uuid::to_string).collect()
        };
        // Nor, for rows made by a stream's own events, the streams the batch begins: onward referrals are made
        // on the referral's own stream, and a case is linked to one by the case's first event. (Not people:
        // nothing makes a person's registration come before the referrals that name them.)
        let begun = batch.begun();
        let stored_streams = |kind: &'static str, ids: &BTreeSet<Uuid>| -> BTreeSet<String> {
            ids.iter().filter(|id| !begun.contains(id) && known.may_have(kind, **id)).map(Uuid::to_string).collect()
        };
        // The repeat-victim flags to re-derive: every referral of a person with a new referral or a new
        // decision, and of the people linked to someone with a new referral (a late-received earlier referral
        // makes their later ones repeats).
        let mut fold = Fold::default();
        let mut people: BTreeSet<Uuid> = received_by.union(&decided).copied().collect();
        fold.load_links(tx, &people, &stored(LINKED, &people)).await?;
        let linked: BTreeSet<Uuid> = received_by.iter().flat_map(|p| fold.links[p].iter().copied()).collect();
        people.extend(linked);
        fold.load_links(tx, &people, &stored(LINKED, &people)).await?;
        let mut whose: BTreeSet<Uuid> = people.iter().flat_map(|p| fold.links[p].iter().copied()).collect();
        whose.extend(people.iter().copied());
        whose.extend(erased);
        fold.load_referrals(tx, "referral_id", &stored_streams(REFERRAL, &referral_ids)).await?;
        fold.load_referrals(tx, "person_id", &stored(PERSON, &whose)).await?;
        fold.load_onward(tx, "referral_id", &stored_streams(ONWARD, &onward_referrals)).await?;
        fold.load_onward(tx, "case_id", &stored_streams(ONWARD_CASE, &onward_cases)).await?;
        // The batch's events, in order, over the stored rows (the decisions over the stored links).
        for event in read {
            match event {
                Read::Hub(envelope, event) => fold.hub(envelope, event),
                Read::People(event) => fold.people(event),
                Read::Specialist(envelope, event) => fold.specialist(envelope, event),
            }
        }
        fold.refresh_repeat(&people);
        fold.write(tx, begun).await?;
        let (received_by, decided) = (received_by.into_iter().collect(), decided.into_iter().collect());
        for (kind, ids) in
            [(REFERRAL, received), (ONWARD, made), (ONWARD_CASE, opened), (PERSON, received_by), (LINKED, decided)]
        {
            for id in ids {
                known.store(kind, id);
            }
        }
        Ok(())
    }
}
