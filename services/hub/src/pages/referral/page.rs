//! One referral's page: the person's summary, the safe-contact warnings (above every action, so nobody contacts a
//! victim without seeing them), the actions the referral's stage allows ([`super::forms`]), and the timeline of
//! everything that happened ([`super::timeline`]).
//!
//! The page reads the referral's own events from the log (the same state the decisions use), so what it shows as
//! allowed is what the rules allow; the read model adds only the closed loop and the repeat-victim flag.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_eventstore::codes::code;
use casetrack_people::records::{PersonRecord, candidates, details};
use casetrack_proto::ReferralId;
use casetrack_proto::contact::ConsentBasis;
use casetrack_proto::hub::ReferralReceived;
use casetrack_web::http::{ApiError, wait_for};
use casetrack_web::pages::{
    FormErrors, Staff, ethnicity_label, failure_page, local_time, long_date, reference, respond, staff_page,
    summary_list, tag,
};
use maud::{Markup, html};
use serde::Deserialize;

use super::forms::{actions, duplicates_section};
use super::timeline::{case_status_words, timeline};
use crate::pages::parts::{flag, status_tag, words};
use crate::referral::Referral;
use crate::state::Hub;
use crate::views;
use crate::views::referral::{ReadFacts, ReferralHistory};

#[derive(Deserialize)]
pub struct PageParams {
    pub wait_for: Option<u64>,
}

pub async fn referral_page(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Query(params): Query<PageParams>,
) -> Response {
    // The page's own facts come from the log; only the closed loop and the repeat flag come from the read model,
    // so a read model still catching up is not a reason to refuse the page.
    let _ = wait_for(hub.context(), "hub.referrals", params.wait_for).await;
    render(&hub, referral_id, &FormErrors::new(), StatusCode::OK).await
}

pub(super) async fn render(hub: &Hub, referral_id: ReferralId, errors: &FormErrors, status: StatusCode) -> Response {
    let mut loaded = match views::referral::history(hub.context(), referral_id).await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => return failure_page(&ApiError::not_found("There is no such referral.")),
        Err(error) => return failure_page(&error),
    };
    let person_id = loaded.received.person_id;
    let ctx = hub.context();
    let (person, facts, duplicates) = match tokio::try_join!(
        async { details(ctx, person_id).await.map_err(ApiError::unavailable) },
        views::referral::facts(ctx, referral_id),
        async { candidates(ctx, person_id).await.map_err(ApiError::unavailable) },
    ) {
        Ok(all) => all,
        Err(error) => return failure_page(&error),
    };
    if matches!(person, PersonRecord::Erased) {
        loaded.forget_what_identifies();
    }
    // The caution opens with the victim's key; once they are erased there is nothing to show.
    let caution = match &loaded.caution {
        None => None,
        Some((event_id, sealed)) => match ctx.vault.open::<String>(person_id, *event_id, sealed).await {
            Ok(text) => Some(text),
            Err(casetrack_vault::VaultError::Erased) => None,
            Err(error) => return failure_page(&ApiError::unavailable(error)),
        },
    };
    let heading = match &person {
        PersonRecord::Known(details) => format!("{} {}", details.forename, details.surname),
        PersonRecord::Erased => "Erased person".to_owned(),
        PersonRecord::Unknown => "Person not found".to_owned(),
    };
    let staff = match Staff::load(&ctx.db).await {
        Ok(staff) => staff,
        Err(error) => return failure_page(&error),
    };
    // The browser tab and its history name the referral, never the victim: a shared screen shows only this.
    let reference = reference("hub", referral_id.0);
    let body = html! {
        (errors.summary())
        span.govuk-caption-m { "Referral " (reference) ", received " (local_time(loaded.received_at)) }
        h1.govuk-heading-l { (heading) }
        p.govuk-body {
            (status_tag(loaded.status()))
            " "
            (flag(loaded.received.enhanced_rights, "Enhanced rights", "purple"))
            (flag(loaded.received.domestic_abuse, "Domestic abuse", "red"))
            (flag(facts.repeat_victim, "Repeat victim", "yellow"))
        }
        @if casetrack_web::access::current().is_some_and(|p| p.account.role == casetrack_proto::Role::HubManager) {
            p.govuk-body { a.govuk-link href={ "/people/" (person_id) } { "Data protection requests for this person" } }
        }
        div.govuk-grid-row {
            div.govuk-grid-column-two-thirds {
                (safety_panel(&loaded, caution.as_deref()))
                (actions(referral_id, &loaded, hub, errors, caution.as_deref(), &staff))
                h2.govuk-heading-m #timeline { "Timeline" }
                (timeline(&loaded, &facts, &hub.context().catalogue, &staff))
            }
            div.govuk-grid-column-one-third {
                h2.govuk-heading-m { "Person" }
                (person_summary(&person, &loaded.received))
                h2.govuk-heading-m { "Referral" }
                (referral_summary(&loaded, &facts, &staff))
                (duplicates_section(referral_id, duplicates.unwrap_or_default(), errors))
            }
        }
    };
    respond(status, staff_page(&format!("Referral {reference}"), body))
}

/// Everything an officer must see before contacting the victim.
fn safety_panel(loaded: &ReferralHistory, caution: Option<&str>) -> Markup {
    let Referral::Open(open) = &loaded.state else { return html! {} };
    if open.consent == ConsentBasis::Withheld {
        return html! {
            div.app-safety-panel {
                h2.govuk-heading-m { "Consent withheld" }
                p { "The victim withheld consent. This referral is recorded but must not be worked." }
            }
        };
    }
    casetrack_web::pages::safe_contact_panel(
        &open.safe_contact,
        &open.safe_times,
        loaded.received.domestic_abuse,
        caution,
        "return the referral to the referrer",
    )
}

fn person_summary(person: &PersonRecord, received: &ReferralReceived) -> Markup {
    let profile = &received.profile;
    let codes = [
        ("Age band", profile.age_band.map_or_else(|| "Not known".into(), |band| band.label().to_owned())),
        ("Gender", words(&code(&profile.gender))),
        (
            "Ethnicity",
            profile.ethnicity.as_ref().map(|e| ethnicity_label(e.code())).unwrap_or_else(|| "Not given".into()),
        ),
        ("Disability", words(&code(&profile.disability))),
        ("Nationality", profile.nationality.as_ref().map_or_else(|| "Not given".into(), |n| n.name().to_owned())),
    ];
    match person {
        PersonRecord::Known(details) => {
            let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "Not given".into());
            summary_list(
                [
                    ("Date of birth", html! { (long_date(details.date_of_birth)) }),
                    ("Phone", html! { (optional(&details.phone)) }),
                    ("Email", html! { (optional(&details.email)) }),
                    ("Address", html! { (optional(&details.address_line)) }),
                    ("Postcode", html! { (optional(&details.postcode)) }),
                ]
                .into_iter()
                .chain(codes.iter().map(|(key, value)| (*key, html! { (value) }))),
            )
        }
        PersonRecord::Erased => {
            html! { p { "This person's details were erased. Figures that counted them are unchanged." } }
        }
        PersonRecord::Unknown => html! { p { "The person this referral names is not registered." } },
    }
}

fn referral_summary(loaded: &ReferralHistory, facts: &ReadFacts, staff: &Staff) -> Markup {
    let received = &loaded.received;
    let Referral::Open(open) = &loaded.state else {
        return summary_list(common_rows(received, loaded, facts));
    };
    summary_list(common_rows(received, loaded, facts).into_iter().chain([(
        "Officer",
        html! { (open.officer.as_ref().map(|o| staff.name_of(o.as_str())).unwrap_or_else(|| "Unallocated".into())) },
    )]))
}

fn common_rows(
    received: &ReferralReceived,
    loaded: &ReferralHistory,
    facts: &ReadFacts,
) -> Vec<(&'static str, Markup)> {
    let mut rows = vec![
        ("Source", html! { (words(&code(&received.source))) }),
        (
            "Offence",
            html! { (received.offence_category.as_ref().map(|o| words(&code(o))).unwrap_or_else(|| "Not given".into())) },
        ),
        ("Crime reference", html! { (loaded.crime_reference().unwrap_or_else(|| "Not reported to police".into())) }),
        ("Consent", html! { (words(&code(&received.consent))) }),
    ];
    if !loaded.needs.is_empty() {
        rows.push(("Needs", html! { ul { @for need in &loaded.needs { li { (crate::needs::label(need)) } } } }));
    }
    if !facts.onward.is_empty() {
        rows.push((
            "Referred on",
            html! {
                ul {
                    @for onward in &facts.onward {
                        @let (words, colour) = case_status_words(onward.case_status.as_deref().unwrap_or(""));
                        li {
                            (onward.service.to_uppercase()) ": " (tag(words, colour))
                            @if let Some(outcome) = &onward.case_outcome { br; span.govuk-hint { (outcome) } }
                        }
                    }
                }
            },
        ));
    }
    rows
}
