//! `reporting.cohort`: of the referrals received in a period, where are they now, by every dimension commissioners
//! report by.
//!
//! A hub referral, or a specialist service's case, is a *unit*. `reporting_units` holds one row per unit: the
//! dimension values it is counted under (fixed when it was received), the stages it has reached and the state it
//! is in now. `reporting_cohort` holds the counts per service, day received (England and Wales), dimension, value
//! and figure. When a unit reaches a stage, its count goes up in every dimension at once; when its state changes,
//! it moves from the old state's count to the new one's. So every figure of a period is a sum over days, and a
//! breakdown by any dimension is a sum over the same rows.
//!
//! A batch is folded in memory: one read per unit it touches (units received in the batch need none), one write
//! per unit changed, one upsert per count changed (in a rebuild, an insert for a count it has not stored yet).
//!
//! The folder, by concern: `names` (what the counts are called, shared with the views), `keys` (units, numbered
//! names, spans and row keys), `fold` (a batch in memory), `events` (what each event does), `store` (reading and
//! writing rows), `tests`.

mod events;
mod fold;
mod keys;
mod names;
mod store;
#[cfg(test)]
mod tests;

use casetrack_eventstore::projection::{Batch, Known, Projection, ProjectionError};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use rustc_hash::FxHashSet;
use sqlx::AnyConnection;
use uuid::Uuid;

pub use crate::projections::common::day_of;
use events::{hub, referral_of, specialist};
use fold::Fold;
pub use names::{
    CASELOAD, CASELOAD_ENDED, CASELOAD_OPENED, DIMENSIONS, dimension_label, financial_year, monthly, stage, state,
    yearly,
};

pub struct Cohort;

#[async_trait::async_trait]
impl Projection for Cohort {
    fn name(&self) -> &'static str {
        "reporting.cohort"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reporting_units", "reporting_cohort", "reporting_ties"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, known: &mut Known) -> Result<(), ProjectionError> {
        let (hubs, specialists) = (batch.decoded::<HubEvent>().await?, batch.decoded::<SpecialistEvent>().await?);
        let mut decoded = Vec::new();
        for (((_, envelope), hub), specialist) in batch.events().zip(hubs).zip(specialists) {
            if let Some(event) = hub {
                decoded.push((Event::Hub(event), envelope.occurred_at));
            } else if let Some(event) = specialist {
                decoded.push((Event::Specialist(event), envelope.occurred_at));
            }
        }
        // Every unit and every person's history the batch needs, read in a few statements. Not read: the
        // referrals and cases the batch receives (stored by none before it), and in a rebuild, the units and
        // people it never stored.
        let mut fold = Fold::default();
        let mut needs = Needs::default();
        for (event, _) in &decoded {
            event.needs(&mut needs);
        }
        let begun = batch.begun();
        let (ids, unstored): (Vec<Uuid>, Vec<Uuid>) =
            needs.ids.iter().partition(|id| !begun.contains(id) && known.may_have(UNIT, **id));
        fold.missing.extend(unstored.iter().map(ToString::to_string));
        fold.fetch_units(tx, &ids.iter().map(ToString::to_string).collect::<Vec<_>>()).await?;
        // The hub referrals the batch's cases came from, for what became of the onward referrals.
        let origins: Vec<String> = fold
            .units
            .values()
            .filter_map(|unit| unit.origin.clone())
            .filter(|origin| !fold.units.contains_key(origin) && !fold.missing.contains(origin))
            .collect();
        fold.fetch_units(tx, &origins).await?;
        let (people, strangers): (Vec<_>, Vec<_>) =
            needs.people.iter().partition(|(_, person)| known.may_have(PERSON, *person));
        let key = |(service, person): &(&str, Uuid)| ((*service).to_owned(), person.to_string());
        fold.histories.extend(strangers.into_iter().map(|pair| (key(pair), Vec::new())));
        let people: Vec<(String, String)> = people.into_iter().map(key).collect();
        fold.fetch_histories(tx, &people).await?;
        for (event, at) in decoded {
            match event {
                Event::Hub(event) => hub(tx, &mut fold, event, at).await?,
                Event::Specialist(event) => specialist(tx, &mut fold, event, at).await?,
            }
        }
        fold.write(tx, known).await?;
        for id in needs.received {
            known.store(UNIT, id);
        }
        for (_, person) in needs.people {
            known.store(PERSON, person);
        }
        Ok(())
    }
}

/// What a rebuild notes it has stored ([`Known`]): units, and people with units.
const UNIT: &str = "unit";
const PERSON: &str = "person";

/// An event this projection counts.
enum Event<'e> {
    Hub(&'e HubEvent),
    Specialist(&'e SpecialistEvent),
}

/// What folding a batch reads.
#[derive(Default)]
struct Needs<'e> {
    /// The units (ids) its events are about.
    ids: FxHashSet<Uuid>,
    /// The units it receives.
    received: Vec<Uuid>,
    /// The people whose histories it reads: (service, person).
    people: FxHashSet<(&'e str, Uuid)>,
}

impl<'e> Event<'e> {
    fn needs(&self, needs: &mut Needs<'e>) {
        match *self {
            Self::Hub(HubEvent::ReferralReceived(e)) => {
                needs.ids.insert(e.referral_id.0);
                needs.received.push(e.referral_id.0);
                needs.people.insert(("hub", e.person_id.0));
            }
            Self::Hub(event) => needs.ids.extend(referral_of(event).map(|id| id.0)),
            Self::Specialist(SpecialistEvent::CaseOpened(e)) => {
                needs.ids.insert(e.case_id.0);
                needs.received.push(e.case_id.0);
                if let CaseOrigin::Hub { referral_id, .. } = &e.origin {
                    needs.ids.insert(referral_id.0);
                }
                needs.people.insert((e.service.as_str(), e.person_id.0));
            }
            Self::Specialist(event) => drop(needs.ids.insert(crate::projections::common::case_of(event).0)),
        }
    }
}
