//! What several hub pages show alike: a referral's status as a tag, flags, the offence categories as options, and
//! a stored time in UK local time.

use maud::{Markup, html};

/// A status as a coloured tag.
pub fn status_tag(status: &str) -> Markup {
    let (label, colour) = match status {
        "awaiting_contact" => ("Awaiting contact", "blue"),
        "contacted" => ("Contacted", "purple"),
        "supported" => ("Supported", "green"),
        "unable_to_contact" => ("Unable to contact", "grey"),
        "returned_to_referrer" => ("Returned to referrer", "grey"),
        "declined" => ("Declined", "orange"),
        "closed" => ("Closed", "grey"),
        "not_worked" => ("Consent withheld: not worked", "red"),
        _ => ("Unknown", "grey"),
    };
    casetrack_web::pages::tag(label, colour)
}

pub use casetrack_web::pages::words;

/// Offence categories of the police feed, as options.
pub const OFFENCES: &[(&str, &str)] = &[
    ("violence_with_injury", "Violence with injury"),
    ("violence_without_injury", "Violence without injury"),
    ("sexual_offence", "Sexual offence"),
    ("stalking_harassment", "Stalking or harassment"),
    ("robbery", "Robbery"),
    ("burglary", "Burglary"),
    ("theft", "Theft"),
    ("criminal_damage", "Criminal damage"),
    ("fraud", "Fraud"),
    ("hate_crime", "Hate crime"),
    ("other", "Something else"),
];

/// A yes/no flag, shown as a tag only when set.
pub fn flag(set: bool, label: &str, colour: &str) -> Markup {
    html! { @if set { (casetrack_web::pages::tag(label, colour)) " " } }
}

/// A time as stored (RFC 3339), in UK local time; as stored when it cannot be read.
pub fn moment(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|at| casetrack_web::pages::local_time(at.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| at.to_owned())
}

/// An offence category code as its label ("Stalking or harassment"); an unknown code as words.
pub fn offence_label(code: &str) -> String {
    OFFENCES.iter().find(|(c, _)| *c == code).map_or_else(|| words(code), |(_, label)| (*label).to_owned())
}
