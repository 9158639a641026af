//! The history file's layout (`docs/history-import.md`) and the reading of its rows into the facts of a hub
//! referral or a specialist case. Pure: the rules of the record itself are the aggregates' (the rehearsal in
//! `super`); here a row is refused only for what cannot be read (a missing name, a date that is not a date, an
//! unknown service, source or code), naming its line and column, never repeating the person's details.

use std::collections::HashMap;
use std::io::Read;

use casetrack_casework::catalogue::Catalogue;
use casetrack_people::person::{DetailsInput, PersonalDetails, parse_details};
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, OutcomeAnswer};
use casetrack_proto::hub::{MeasureAnswer, OffenceCategory, ReferralReceived, ReferralSource};
use casetrack_proto::profile::{AgeBand, Nationality, VictimProfile};
use casetrack_proto::specialist::{CaseOpened, CaseOrigin, ClosureReason, RiskLevel};
use casetrack_proto::{PersonId, ServiceCode};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Europe::London;
use uuid::Uuid;

use casetrack_hub::commands::history as hub;
use casetrack_specialist::commands::history as specialist;

/// Every column, in the documented order. The first eight must be in the header; the others may be left out.
pub const COLUMNS: [&str; 21] = [
    "service",
    "reference",
    "forename",
    "surname",
    "date_of_birth",
    "received_on",
    "source",
    "outcome",
    "postcode",
    "phone",
    "email",
    "offence_category",
    "domestic_abuse",
    "attempt_dates",
    "contacted_on",
    "supported_on",
    "ended_on",
    "end_reason",
    "outcome_answers",
    "closing_risk",
    "nationality",
];
const REQUIRED: usize = 8;

/// No field is longer than this: anything longer is a broken file, not a value.
const MAX_FIELD: usize = 1_000;

const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_7472_6163_6b00_0000_0000_0014);

/// A row that was not imported: its line, the column and the rule (a code and its words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub line: u64,
    pub column: &'static str,
    pub rule: &'static str,
    pub message: String,
    pub service: String,
    pub reference: String,
}

/// A readable row: the person and the record's history, with the column each fact came from.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub service: String,
    pub reference: String,
    pub person_id: PersonId,
    pub details: PersonalDetails,
    /// Derived from the service and the reference: what every id and command id of the row derives from.
    pub key: String,
    pub received_at: DateTime<Utc>,
    pub record: Record,
    /// The column each fact came from, in the order of the facts.
    pub columns: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub enum Record {
    Hub(hub::History),
    Specialist(specialist::History),
}

/// The rows of a file, the readable ones and the rejected ones, in the order of the file.
#[derive(Debug, Default)]
pub struct File {
    pub rows: Vec<Row>,
    pub rejects: Vec<Reject>,
}

/// Reads a history file recorded `now` (the whole file is refused only when its header lacks a required column or
/// it cannot be read); `late_reason` is the reason every fact is recorded late.
pub fn read(input: impl Read, catalogue: &Catalogue, now: DateTime<Utc>, late_reason: &str) -> anyhow::Result<File> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader.byte_headers().map_err(|e| anyhow::anyhow!("the file could not be read: {e}"))?.clone();
    anyhow::ensure!(!header.is_empty(), "the file has no header row");
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = COLUMNS[..REQUIRED].iter().copied().filter(|c| !names.iter().any(|n| n == c)).collect();
    anyhow::ensure!(missing.is_empty(), "the header row is missing these columns: {}", missing.join(", "));
    let index: Vec<Option<usize>> = COLUMNS.iter().map(|c| names.iter().position(|n| n == c)).collect();
    let mut file = File::default();
    let mut first_line: HashMap<(String, String), u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                if matches!(error.kind(), csv::ErrorKind::Io(_)) {
                    anyhow::bail!("the file could not be read: {error}");
                }
                let line = error.position().map_or(line, |p| p.line());
                let message = "the row could not be read as CSV (check its quotes and its number of fields)";
                file.rejects.push(Reject {
                    line,
                    column: "",
                    rule: "unreadable_row",
                    message: message.into(),
                    service: String::new(),
                    reference: String::new(),
                });
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let fields = Fields { record: &record, index: &index, line, service: String::new(), reference: String::new() };
        match fields.row(catalogue, now, late_reason) {
            Ok(row) => match first_line.get(&(row.service.clone(), row.reference.clone())) {
                Some(first) => file.rejects.push(Reject {
                    line: row.line,
                    column: "reference",
                    rule: "duplicate_reference",
                    message: format!(
                        "this reference is on line {first} already: a reference is unique within its service"
                    ),
                    service: row.service,
                    reference: row.reference,
                }),
                None => {
                    first_line.insert((row.service.clone(), row.reference.clone()), row.line);
                    file.rows.push(row);
                }
            },
            Err(reject) => file.rejects.push(*reject),
        }
    }
    Ok(file)
}

type Refusal = Box<Reject>;

/// One row's fields by column name.
struct Fields<'a> {
    record: &'a csv::ByteRecord,
    index: &'a [Option<usize>],
    line: u64,
    service: String,
    reference: String,
}

impl Fields<'_> {
    fn reject(&self, column: &'static str, rule: &'static str, message: impl Into<String>) -> Refusal {
        Box::new(Reject {
            line: self.line,
            column,
            rule,
            message: message.into(),
            service: self.service.clone(),
            reference: self.reference.clone(),
        })
    }

    /// The trimmed text of a column ("" when the row is short or the column absent).
    fn text(&self, column: &'static str) -> Result<String, Refusal> {
        let position = COLUMNS.iter().position(|c| *c == column).expect("a known column");
        let bytes = self.index.get(position).copied().flatten().and_then(|at| self.record.get(at)).unwrap_or_default();
        if bytes.len() > MAX_FIELD {
            return Err(self.reject(column, "field_too_long", format!("{column} is longer than {MAX_FIELD} bytes")));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| self.reject(column, "not_utf8", format!("{column} is not valid UTF-8 text")))?;
        Ok(text.trim().to_owned())
    }

    fn optional(&self, column: &'static str) -> Result<Option<String>, Refusal> {
        Ok(Some(self.text(column)?).filter(|t| !t.is_empty()))
    }

    fn required(&self, column: &'static str) -> Result<String, Refusal> {
        self.optional(column)?
            .ok_or_else(|| self.reject(column, "required", format!("{column} is empty; it is required")))
    }

    /// A code of an enum (`police_feed`, `improved`, ...), or a refusal listing what is allowed.
    fn code<T: serde::de::DeserializeOwned>(
        &self,
        column: &'static str,
        text: &str,
        allowed: &str,
    ) -> Result<T, Refusal> {
        casetrack_eventstore::codes::parse(&text.to_ascii_lowercase())
            .ok_or_else(|| self.reject(column, "unknown_code", format!("{column} {text:?} is not one of {allowed}")))
    }

    /// A moment as the file gives it: `YYYY-MM-DDTHH:MM` (UK local time), or a day (`YYYY-MM-DD`), taken as
    /// `day_time` UK local time that day, or `now` when that is later than now on today. The value is not
    /// repeated in a refusal.
    fn moment(
        &self,
        column: &'static str,
        text: &str,
        day_time: NaiveTime,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, Refusal> {
        let text = text.trim();
        let uk = |local: NaiveDateTime| {
            London
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| London.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
                .map(|at| at.with_timezone(&Utc))
        };
        let parsed = match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) => uk(day.and_time(day_time)).map(|at| {
                let today = now.with_timezone(&London).date_naive();
                if day == today && at > now { now } else { at }
            }),
            Err(_) => ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
                .and_then(uk),
        };
        parsed.ok_or_else(|| {
            self.reject(
                column,
                "invalid_date",
                format!("{column} is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM)"),
            )
        })
    }

    fn row(mut self, catalogue: &Catalogue, now: DateTime<Utc>, late_reason: &str) -> Result<Row, Refusal> {
        let service = self.required("service")?.to_ascii_lowercase();
        self.service = service.clone();
        let reference = self.required("reference")?;
        if reference.chars().count() > 64
            || !reference.chars().all(|c| c.is_ascii_alphanumeric() || "/-_ .".contains(c))
        {
            return Err(self.reject(
                "reference",
                "invalid_reference",
                "reference must be at most 64 letters, digits, spaces or / - _ . characters",
            ));
        }
        self.reference = reference.clone();
        let definition = match service.as_str() {
            "hub" => None,
            code => Some(catalogue.get(code).ok_or_else(|| {
                let codes: Vec<&str> = catalogue.all().iter().map(|s| s.code.as_str()).collect();
                self.reject("service", "unknown_service", format!("service must be hub or one of {}", codes.join(", ")))
            })?),
        };
        let today = now.with_timezone(&London).date_naive();
        let input = DetailsInput {
            forename: self.text("forename")?,
            surname: self.text("surname")?,
            date_of_birth: self.text("date_of_birth")?,
            phone: self.optional("phone")?,
            email: self.optional("email")?,
            postcode: self.optional("postcode")?,
        };
        let details = parse_details(&input, today).map_err(|problems| {
            let first = &problems[0];
            self.reject(first.field, first.code, first.message.to_lowercase())
        })?;
        for (column, name) in [("forename", &details.forename), ("surname", &details.surname)] {
            if name.starts_with(['=', '+', '-', '@']) {
                return Err(self.reject(column, "formula", format!("{column} starts like a spreadsheet formula")));
            }
        }
        let start_of_day = NaiveTime::MIN;
        let noon = NaiveTime::from_hms_opt(12, 0, 0).expect("a time");
        let end_of_day = NaiveTime::from_hms_opt(23, 59, 0).expect("a time");
        let received_at = self.moment("received_on", &self.required("received_on")?, start_of_day, now)?;
        let source = self.required("source")?.to_ascii_lowercase();
        let outcome = self.required("outcome")?.to_ascii_lowercase();
        if !["open", "declined", "unable_to_contact", "closed"].contains(&outcome.as_str()) {
            return Err(self.reject(
                "outcome",
                "unknown_outcome",
                format!("outcome {outcome:?} is not one of open, declined, unable_to_contact, closed"),
            ));
        }
        let offence_category = match self.optional("offence_category")? {
            Some(text) => {
                Some(self.code::<OffenceCategory>("offence_category", &text, "the police feed's offence categories")?)
            }
            None => None,
        };
        let nationality = match self.optional("nationality")? {
            Some(text) => {
                Some(Nationality::parse(&text).map_err(|why| self.reject("nationality", "unknown_code", why))?)
            }
            None => None,
        };
        let domestic_abuse = match self.text("domestic_abuse")?.to_ascii_uppercase().as_str() {
            "Y" => true,
            "N" | "" => false,
            _ => return Err(self.reject("domestic_abuse", "unknown_code", "domestic_abuse must be Y or N")),
        };
        let mut columns = Vec::new();
        let mut attempts = Vec::new();
        for part in self.text("attempt_dates")?.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            attempts.push(self.moment("attempt_dates", part, noon, now)?);
        }
        let contacted =
            self.optional("contacted_on")?.map(|t| self.moment("contacted_on", &t, noon, now)).transpose()?;
        let supported =
            self.optional("supported_on")?.map(|t| self.moment("supported_on", &t, noon, now)).transpose()?;
        let ended = self.optional("ended_on")?.map(|t| self.moment("ended_on", &t, end_of_day, now)).transpose()?;
        let ended = match (outcome.as_str(), ended) {
            ("open", None) => None,
            ("open", Some(_)) => {
                return Err(self.reject("ended_on", "ended_but_open", "ended_on is given but the outcome is open"));
            }
            (_, Some(at)) => Some(at),
            (_, None) => {
                return Err(self.reject(
                    "ended_on",
                    "required",
                    format!("ended_on is empty; a record {outcome} has an end date"),
                ));
            }
        };
        let end_reason = self.optional("end_reason")?;
        if end_reason.as_deref().is_some_and(|r| r.starts_with(['=', '+', '-', '@'])) {
            return Err(self.reject("end_reason", "formula", "end_reason starts like a spreadsheet formula"));
        }
        let mut answers = Vec::new();
        for part in self.text("outcome_answers")?.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((measure, answer)) = part.split_once('=') else {
                return Err(self.reject(
                    "outcome_answers",
                    "invalid_answers",
                    "outcome_answers must be measure=answer pairs separated by ;",
                ));
            };
            let answer: OutcomeAnswer =
                self.code("outcome_answers", answer.trim(), "improved, no_change, worse, not_asked")?;
            answers.push(MeasureAnswer { measure: measure.trim().to_ascii_lowercase(), answer });
        }
        let closing_risk = match self.optional("closing_risk")? {
            Some(text) => Some(self.code::<RiskLevel>("closing_risk", &text, "standard, medium, high")?),
            None => None,
        };
        let key = format!("{service}|{}", reference.to_ascii_lowercase());
        let person_id = PersonId(Uuid::new_v5(&NAMESPACE, format!("history person {key}").as_bytes()));
        let age_band = AgeBand::at(details.date_of_birth, received_at.with_timezone(&London).date_naive());
        let late_reason = late_reason.to_owned();
        let mut push = |column: &'static str| columns.push(column);
        let record = match definition {
            None => {
                if closing_risk.is_some() {
                    return Err(self.reject(
                        "closing_risk",
                        "not_for_hub",
                        "closing_risk is for specialist cases; leave it empty for the hub",
                    ));
                }
                let source: ReferralSource = self.code("source", &source, "police_feed, self_referral, partner")?;
                let referral_id = hub::referral_id(&key);
                let received = ReferralReceived {
                    referral_id,
                    person_id,
                    source,
                    offence_category,
                    domestic_abuse,
                    crime_reference: None,
                    crime_reported_on: None,
                    safe_contact: Default::default(),
                    // The police feed refers on an opt-out basis; a victim or partner referring asked for support.
                    consent: if source == ReferralSource::PoliceFeed {
                        ConsentBasis::OptOut
                    } else {
                        ConsentBasis::Explicit
                    },
                    consent_override_reason: None,
                    enhanced_rights: false,
                    profile: VictimProfile { age_band, nationality, ..Default::default() },
                };
                let mut facts = vec![(received_at, hub::Fact::Received(received))];
                push("received_on");
                let phone = ContactChannel::Phone;
                for at in attempts {
                    facts.push((at, hub::Fact::Attempt { channel: phone, outcome: AttemptOutcome::NoAnswer }));
                    push("attempt_dates");
                }
                if let Some(at) = contacted {
                    facts.push((at, hub::Fact::Attempt { channel: phone, outcome: AttemptOutcome::Reached }));
                    push("contacted_on");
                }
                if let Some(at) = supported {
                    facts.push((at, hub::Fact::SupportAccepted));
                    push("supported_on");
                }
                if let Some(at) = ended {
                    let fact = match outcome.as_str() {
                        "declined" => hub::Fact::SupportDeclined { reason: declined_reason(end_reason) },
                        "unable_to_contact" => hub::Fact::UnableToContact,
                        _ => {
                            if let Some(reason) = &end_reason {
                                // Checked as for a case; the hub's closure records no reason.
                                self.code::<ClosureReason>("end_reason", reason, CLOSURE_REASONS)?;
                            }
                            hub::Fact::Closed { answers }
                        }
                    };
                    facts.push((at, fact));
                    push("ended_on");
                }
                Record::Hub(hub::History { referral_id, key: key.clone(), facts, late_reason })
            }
            Some(definition) => {
                if !casetrack_specialist::commands::open_direct::is_direct_source(definition, &source) {
                    let sources: Vec<&str> =
                        definition.referral_sources.iter().map(String::as_str).filter(|s| *s != "hub").collect();
                    return Err(self.reject(
                        "source",
                        "unknown_source",
                        format!("source for {} must be one of {}", definition.code, sources.join(", ")),
                    ));
                }
                if supported.is_some() {
                    return Err(self.reject(
                        "supported_on",
                        "not_for_specialist",
                        "supported_on is for hub referrals; a specialist case is taken on when it opened",
                    ));
                }
                if let Some(why) = definition.refuses(age_band) {
                    return Err(self.reject("date_of_birth", "not_eligible", why));
                }
                let case_id = specialist::case_id(&key);
                let opened = CaseOpened {
                    case_id,
                    service: ServiceCode::parse(definition.code.as_str()).expect("a catalogue code"),
                    person_id,
                    origin: CaseOrigin::Direct { source },
                    safe_contact: Default::default(),
                    safe_times: Vec::new(),
                    domestic_abuse,
                    enhanced_rights: false,
                    age_band,
                    offence_category,
                    nationality,
                };
                let mut facts =
                    vec![(received_at, specialist::Fact::Opened(opened)), (received_at, specialist::Fact::Accepted)];
                push("received_on");
                push("received_on");
                let phone = ContactChannel::Phone;
                for at in attempts {
                    facts.push((at, specialist::Fact::Attempt { channel: phone, outcome: AttemptOutcome::NoAnswer }));
                    push("attempt_dates");
                }
                if let Some(at) = contacted {
                    facts.push((at, specialist::Fact::Attempt { channel: phone, outcome: AttemptOutcome::Reached }));
                    push("contacted_on");
                }
                if let Some(at) = ended {
                    match outcome.as_str() {
                        "declined" => {
                            facts.push((at, specialist::Fact::SupportDeclined { reason: declined_reason(end_reason) }));
                            push("ended_on");
                        }
                        "unable_to_contact" => {
                            facts.push((at, specialist::Fact::UnableToContact));
                            push("ended_on");
                        }
                        _ => {
                            if let Some(level) = closing_risk {
                                facts.push((at, specialist::Fact::ClosingRisk(level)));
                                push("closing_risk");
                            }
                            let reason = match &end_reason {
                                Some(text) => self.code("end_reason", text, CLOSURE_REASONS)?,
                                None => ClosureReason::SupportCompleted,
                            };
                            facts.push((at, specialist::Fact::Closed { reason, answers }));
                            push("ended_on");
                        }
                    }
                }
                Record::Specialist(specialist::History {
                    case_id,
                    service: service.clone(),
                    key: key.clone(),
                    facts,
                    late_reason,
                })
            }
        };
        Ok(Row { line: self.line, service, reference, person_id, details, key, received_at, record, columns })
    }
}

const CLOSURE_REASONS: &str = "support_completed, disengaged_later, transferred_out, moved_away";

fn declined_reason(given: Option<String>) -> String {
    given.unwrap_or_else(|| "declined support (no reason recorded in the previous case system)".to_owned())
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const HEADER: &str = "service,reference,forename,surname,date_of_birth,received_on,source,outcome,ended_on,\
outcome_answers,attempt_dates";

    fn now() -> DateTime<Utc> {
        "2026-12-04T12:00:00Z".parse().unwrap()
    }

    /// A row of the layout with one field changed to anything.
    fn row() -> impl Strategy<Value = String> {
        let good = "hub,VCU-1,Alex,Example,1984-03-12,2019-05-07,police_feed,closed,2019-08-30,cope=improved,";
        (0..11_usize, "\\PC{0,25}").prop_map(move |(column, value)| {
            let mut fields: Vec<String> = good.split(',').map(str::to_owned).collect();
            fields[column] = value.replace(['\n', '\r'], " ");
            fields.join(",")
        })
    }

    proptest! {
        /// Any row is read or rejected with its line and a rule, never a panic.
        #[test]
        fn any_row_is_read_or_rejected_with_a_rule(rows in proptest::collection::vec(row(), 0..8)) {
            let text = format!("{HEADER}\n{}\n", rows.join("\n"));
            let file = read(text.as_bytes(), &Catalogue::shipped(), now(), "history").expect("the header is good");
            for reject in &file.rejects {
                prop_assert!(!reject.rule.is_empty() && !reject.message.is_empty());
                prop_assert!(reject.line >= 2);
            }
            prop_assert!(file.rows.len() + file.rejects.len() <= rows.len().max(1));
        }

        /// Any bytes at all: read, or refused with a reason.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            match read(bytes.as_slice(), &Catalogue::shipped(), now(), "history") {
                Ok(file) => prop_assert!(file.rejects.iter().all(|r| !r.message.is_empty())),
                Err(error) => prop_assert!(!error.to_string().is_empty()),
            }
        }
    }
}
