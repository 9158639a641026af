//! Figures in plain language: what each figure, service and breakdown value is called on the dashboard and in every
//! export, and the order they are shown in, so that a table, a CSV file and a workbook read alike.

/// A count with thousands separators (12,345), as every page shows counts.
pub use casetrack_web::pages::thousands;

/// A figure with a fixed name: its key (as the API names it), its label and its counting rule in one sentence for a
/// commissioner (the notes sheet of a workbook, the dashboard's definitions).
pub struct Figure {
    pub key: &'static str,
    pub label: &'static str,
    pub rule: &'static str,
}

const fn f(key: &'static str, label: &'static str, rule: &'static str) -> Figure {
    Figure { key, label, rule }
}

/// Every figure with a fixed name, in the order the dashboard shows them: the funnel of referrals received in the
/// period, where they are now, the caseload, first contact, then what happened in the period.
pub const FIGURES: &[Figure] = &[
    f(
        "referrals_received",
        "Referrals received",
        "Referrals (or, for a specialist service, cases) received in the period, each counted once.",
    ),
    f(
        "victims_referred",
        "Victims referred",
        "Different people among the referrals received: a person referred twice in the period counts once.",
    ),
    f(
        "nationalities",
        "Nationalities among victims",
        "How many different nationalities the victims referred in the period hold, counting only those who gave one.",
    ),
    f(
        "contact_attempted",
        "Tried to contact",
        "Of the referrals received in the period, those with at least one attempt to contact the victim, whatever its outcome.",
    ),
    f(
        "contacted",
        "Contacted",
        "Of the referrals received in the period, those where the victim was reached at least once.",
    ),
    f(
        "supported",
        "Accepted support",
        "Of the referrals received in the period, those where the victim accepted support from the hub.",
    ),
    f("accepted", "Accepted by the service", "Of the cases received in the period, those the service accepted."),
    f(
        "high_risk",
        "Assessed as high risk",
        "Of the cases received in the period, those assessed as high risk (IDVA: DASH or professional judgement).",
    ),
    f("self_referrals", "Self-referrals", "Of the referrals received in the period, those the victim made themselves."),
    f(
        "self_referrals_reported_to_police",
        "Self-referrals who then reported to police",
        "Of those self-referrals, the victims who later reported the crime to police.",
    ),
    f(
        "open",
        "Still being worked on",
        "Of the referrals received in the period, those still being worked on today (not closed, declined or otherwise ended).",
    ),
    f(
        "not_worked",
        "Not worked (consent withheld)",
        "Of the referrals received in the period, those the victim asked not to be contacted about and which no one has tried to contact.",
    ),
    f(
        "declined",
        "Declined support",
        "Of the referrals received in the period, those where the victim declined support.",
    ),
    f(
        "unable_to_contact",
        "Unable to contact",
        "Of the referrals received in the period, those closed after the required attempts failed to reach the victim.",
    ),
    f(
        "no_safe_contact",
        "No safe way to contact",
        "Of the referrals received in the period, those returned to the referrer because there was no safe or valid way to reach the victim.",
    ),
    f(
        "closed",
        "Closed after support",
        "Of the referrals received in the period, those closed after the victim was supported.",
    ),
    f(
        "declined_by_service",
        "Declined by the service",
        "Of the cases received in the period, those the service declined.",
    ),
    f("withdrawn", "Withdrawn by the referrer", "Of the cases received in the period, those the referrer withdrew."),
    f(
        "victims_code.enhanced.victims",
        "Victims' Code, enhanced rights: victims",
        "Of the referrals received in the period, victims entitled to enhanced rights under the Victims' Code (victims of the most serious crime, persistently targeted, vulnerable or intimidated, and every child), not counting those who asked not to be contacted.",
    ),
    f(
        "victims_code.enhanced.contacted_on_time",
        "Victims' Code, enhanced rights: contacted in time",
        "Of them, those first reached within 2 working days of reporting the crime (weekends and bank holidays in England and Wales not counted).",
    ),
    f(
        "victims_code.enhanced.share_contacted_on_time",
        "Victims' Code, enhanced rights: share contacted in time",
        "Those contacted in time as a share of the victims entitled to enhanced rights.",
    ),
    f(
        "victims_code.enhanced.needs_assessed_on_time",
        "Victims' Code, enhanced rights: needs assessed in time",
        "Of them, those whose needs were first assessed within 2 working days (hub only).",
    ),
    f(
        "victims_code.enhanced.share_needs_assessed_on_time",
        "Victims' Code, enhanced rights: share with needs assessed in time",
        "Those with needs assessed in time as a share of the victims entitled to enhanced rights.",
    ),
    f(
        "victims_code.standard.victims",
        "Victims' Code, other victims: victims",
        "Of the referrals received in the period, the other victims, not counting those who asked not to be contacted.",
    ),
    f(
        "victims_code.standard.contacted_on_time",
        "Victims' Code, other victims: contacted in time",
        "Of them, those first reached within 5 working days of reporting the crime (weekends and bank holidays not counted).",
    ),
    f(
        "victims_code.standard.share_contacted_on_time",
        "Victims' Code, other victims: share contacted in time",
        "Those contacted in time as a share of the other victims.",
    ),
    f(
        "victims_code.standard.needs_assessed_on_time",
        "Victims' Code, other victims: needs assessed in time",
        "Of them, those whose needs were first assessed within 5 working days (hub only).",
    ),
    f(
        "victims_code.standard.share_needs_assessed_on_time",
        "Victims' Code, other victims: share with needs assessed in time",
        "Those with needs assessed in time as a share of the other victims.",
    ),
    f(
        "caseload.open_at_start",
        "Open at the start of the period",
        "Cases received before the period began and not ended by then.",
    ),
    f(
        "caseload.open_at_start_under_18",
        "Open at the start: children",
        "Of those open at the start, victims under 18 when referred.",
    ),
    f(
        "caseload.open_at_end",
        "Open at the end of the period",
        "Cases received by the period's last day and not ended by the end of it.",
    ),
    f(
        "caseload.open_at_end_under_18",
        "Open at the end: children",
        "Of those open at the end, victims under 18 when referred.",
    ),
    f(
        "caseload.supported",
        "Cases worked in the period",
        "Cases open at some point in the period: those carried in plus those new in it.",
    ),
    f(
        "caseload.supported_adults",
        "Cases worked: adults",
        "Of the cases worked in the period, victims 18 or over when referred, or whose age was not recorded.",
    ),
    f(
        "caseload.supported_under_18",
        "Cases worked: children",
        "Of the cases worked in the period, victims under 18 when referred.",
    ),
    f("caseload.carried_in", "Carried in from before the period", "Cases already open when the period began."),
    f(
        "caseload.carried_in_adults",
        "Carried in: adults",
        "Of the cases carried in, victims 18 or over when referred, or whose age was not recorded.",
    ),
    f(
        "caseload.carried_in_under_18",
        "Carried in: children",
        "Of the cases carried in, victims under 18 when referred.",
    ),
    f("caseload.new", "New in the period", "Cases received in the period (the same as referrals received)."),
    f(
        "caseload.new_adults",
        "New: adults",
        "Of the new cases, victims 18 or over when referred, or whose age was not recorded.",
    ),
    f("caseload.new_under_18", "New: children", "Of the new cases, victims under 18 when referred."),
    f(
        "first_contact.attempted",
        "First contact attempts",
        "Of the referrals received in the period, those with a first attempt to contact the victim.",
    ),
    f(
        "first_contact.median_days",
        "Days to first contact (median)",
        "Half of the first attempts were made within this many days of the crime being reported to police (or of the referral, without a police report).",
    ),
    f(
        "first_contact.p90_days",
        "Days to first contact (9 in 10)",
        "Nine in ten first attempts were made within this many days.",
    ),
    f(
        "first_contact.within_deadline",
        "First attempt within 2 working days",
        "First attempts made within 2 working days (weekends and bank holidays in England and Wales not counted).",
    ),
    f(
        "first_contact.share_within_deadline",
        "Share of first attempts within 2 working days",
        "First attempts within 2 working days, as a share of all first attempts.",
    ),
];

/// The figures whose names are made from another's (per target service, per outcome measure, per activity), in
/// the order they follow the fixed ones, with a rule for each family.
pub const FAMILIES: &[(&str, &str)] = &[
    ("onward_referrals.", "Of the referrals received in the period, those referred on to this specialist service."),
    (
        "onward_outcomes.",
        "Of those referred on, how many reached each stage at the specialist service (opened, accepted, contacted, closed, ...); a case can reach several.",
    ),
    (
        "outcomes.",
        "At cases closed in the period: how many victims were asked about each cope-and-recover measure, how many said it improved, and the share improved.",
    ),
    (
        "activity.",
        "What happened in the period, whenever the referral was received: for example contact attempts made, cases closed, sessions held.",
    ),
];

/// Activity figures by the names they are counted under.
fn activity_label(name: &str) -> Option<&'static str> {
    Some(match name {
        "referrals_received" => "Referrals received (activity)",
        "contact_attempts" => "Contact attempts made",
        "contacted" => "Victims first reached",
        "supported" => "Victims who accepted support",
        "declined" => "Victims who declined support",
        "unable_to_contact" => "Ended: unable to contact",
        "no_safe_contact" => "Returned: no safe contact",
        "closed" => "Referrals closed",
        "self_referrals" => "Self-referrals received",
        "self_referrals_reported_to_police" => "Self-referrals reported to police",
        "needs_assessed" => "Needs assessments",
        "support_sessions" => "Support sessions",
        "outreach_sent" => "Letters and emails sent",
        "cases_opened" => "Cases opened",
        "cases_opened_from_hub" => "Cases opened from the hub",
        "cases_opened_under_18" => "Cases opened: children",
        "referrals_accepted" => "Referrals accepted",
        "declined_by_service" => "Declined by the service",
        "withdrawn" => "Withdrawn by the referrer",
        "engaged" => "Victims first reached",
        "declined_by_victim" => "Victims who declined support",
        "high_risk" => "Assessed as high risk",
        "marac_referred" => "Referred to MARAC",
        "marac_heard" => "Heard at MARAC",
        "marac_heard_repeat" => "Heard at MARAC again within 12 months",
        "interventions" => "Interventions",
        "cases_closed" => "Cases closed",
        "cases_reopened" => "Cases re-opened",
        "spo_applied" => "Stalking Protection Orders applied for",
        "spo_granted" => "Stalking Protection Orders granted",
        "spo_refused" => "Stalking Protection Orders refused",
        "rj_explored" => "Told about restorative justice",
        "rj_face_to_face_conference" => "Restorative justice: face-to-face conferences agreed",
        "rj_shuttle_mediation" => "Restorative justice: shuttle mediations agreed",
        "rj_indirect_communication" => "Restorative justice: indirect communications agreed",
        "rj_completed" => "Restorative justice: completed",
        "rj_withdrawn_by_victim" => "Restorative justice: withdrawn by the victim",
        "rj_withdrawn_by_offender" => "Restorative justice: withdrawn by the offender",
        "rj_unsuitable" => "Restorative justice: found unsuitable",
        _ => return None,
    })
}

/// Whether a figure means anything for a service: the hub does not accept or decline referrals as a specialist
/// service does, nor assess DASH risk; a specialist service has no self-referral funnel, consent-withheld referrals,
/// returns to the referrer or (in Casetrack) needs assessments. Figures that cannot apply are left out of exports.
pub fn applies(service: &str, key: &str) -> bool {
    const HUB_ONLY: [&str; 6] = [
        "supported",
        "self_referrals",
        "self_referrals_reported_to_police",
        "not_worked",
        "no_safe_contact",
        "first_contact.",
    ];
    const SERVICES_ONLY: [&str; 4] = ["accepted", "high_risk", "declined_by_service", "withdrawn"];
    let is = |list: &[&str]| list.iter().any(|k| key == *k || (k.ends_with('.') && key.starts_with(k)));
    if service == "hub" {
        !is(&SERVICES_ONLY)
    } else {
        let needs = key.starts_with("victims_code.") && key.contains("needs_assessed");
        !(is(&HUB_ONLY) || needs)
    }
}

/// Words for a code: `not_known` -> "Not known".
pub fn words(code: &str) -> String {
    let text = code.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What a service is called (`idva` -> "IDVA: high-risk domestic abuse"), from the names a report carries.
pub fn service_name(code: &str, names: &dyn Fn(&str) -> Option<String>) -> String {
    names(code).unwrap_or_else(|| if code == "hub" { HUB_NAME.to_owned() } else { code.to_uppercase() })
}

/// The hub's name on pages and in exports.
pub const HUB_NAME: &str = "Victim and Witness Hub";

/// The label of a figure as [`crate::export::figures`] names it (`activity.contact_attempts`), with service names
/// and outcome measures' labels looked up by `names`.
pub fn label(key: &str, names: &dyn Fn(&str) -> Option<String>) -> String {
    if let Some(figure) = FIGURES.iter().find(|figure| figure.key == key) {
        return figure.label.to_owned();
    }
    if let Some(target) = key.strip_prefix("onward_referrals.") {
        return format!("Referred on to {}", service_name(target, names));
    }
    if let Some((target, milestone)) = key.strip_prefix("onward_outcomes.").and_then(|rest| rest.split_once('.')) {
        return format!("Referred on to {}: {}", service_name(target, names), words(milestone).to_lowercase());
    }
    if let Some(rest) = key.strip_prefix("outcomes.") {
        let (measure, part) = rest.rsplit_once('.').unwrap_or((rest, ""));
        let measure = names(&format!("measure:{measure}")).unwrap_or_else(|| words(measure));
        let part = match part {
            "asked" => "asked",
            "improved" => "improved",
            "share_improved" => "share improved",
            "label" => "label",
            other => other,
        };
        return format!("{measure}: {part}");
    }
    if let Some(name) = key.strip_prefix("activity.") {
        if let Some(target) = name.strip_prefix("onward_referrals.") {
            return format!("Onward referrals made to {}", service_name(target, names));
        }
        return activity_label(name).map_or_else(|| words(name), str::to_owned);
    }
    words(key)
}

/// Where a figure comes in the dashboard's order: the fixed figures in [`FIGURES`] order, then each family of
/// [`FAMILIES`] in its order, by name within it.
pub fn order(key: &str) -> (usize, usize, String) {
    if let Some(i) = FIGURES.iter().position(|figure| figure.key == key) {
        return (0, i, String::new());
    }
    match FAMILIES.iter().position(|(prefix, _)| key.starts_with(prefix)) {
        Some(i) => (1, i, key.to_owned()),
        None => (2, 0, key.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_have_labels_in_the_dashboards_order() {
        let names = |code: &str| (code == "idva").then(|| "IDVA: high-risk domestic abuse".to_owned());
        assert_eq!(label("activity.contact_attempts", &names), "Contact attempts made");
        assert_eq!(label("onward_referrals.idva", &names), "Referred on to IDVA: high-risk domestic abuse");
        assert_eq!(label("onward_outcomes.rj.opened", &names), "Referred on to RJ: opened");
        assert_eq!(label("outcomes.cope.share_improved", &names), "Cope: share improved");
        assert!(order("referrals_received") < order("open") && order("open") < order("activity.closed"));
        for figure in FIGURES {
            assert!(!figure.rule.contains('`') && !figure.rule.to_lowercase().contains("projection"), "{}", figure.key);
        }
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(
            [thousands(0), thousands(999), thousands(1000), thousands(1_234_567)],
            ["0", "999", "1,000", "1,234,567"]
        );
    }
}
