//! The police feed: a CSV file of victims of reported crime, validated row by row.
//!
//! Parsing is pure and separate from importing (`casetrack import police-feed`), so every rule is tested here:
//! each refusal names the line and the column in words a hub officer can act on, a bad row never blocks the good
//! ones, and nothing about a rejected row but its line, column and crime reference is repeated back (the file
//! holds victims' details; the rejects list must not become a second copy of them).

use std::io::Read;

use casetrack_proto::contact::{ConsentBasis, SafeContact, Safety};
use casetrack_proto::hub::OffenceCategory;
use casetrack_proto::profile::{Ethnicity, Gender, Nationality, YesNoUnknown};
use chrono::NaiveDate;

/// The columns the feed must have, in the order of the specification (others are ignored). Dates are
/// `YYYY-MM-DD`: `reported_date` is the day the crime was reported to police.
pub const COLUMNS: [&str; 21] = [
    "crime_reference",
    "reported_date",
    "offence_category",
    "domestic_abuse",
    "victim_forename",
    "victim_surname",
    "date_of_birth",
    "gender",
    "ethnicity",
    "disability",
    "phone",
    "email",
    "address_line",
    "postcode",
    "safe_to_phone",
    "safe_to_voicemail",
    "safe_to_text",
    "safe_to_email",
    "safe_to_write",
    "consent_basis",
    "enhanced_rights",
];

/// Columns the feed may have; a file without them is read as before.
/// - `referred_on` (`YYYY-MM-DD`, not in the future): the day the police referred the victim to the hub, which the
///   referral is dated by (12:00 UK time that day); blank or absent, it is dated when the hub received the file.
/// - `nationality`: the victim's nationality as an ISO 3166-1 country code (GB, PL, UA, ...); blank, not given.
pub const OPTIONAL_COLUMNS: [&str; 2] = ["referred_on", "nationality"];

/// No field is longer than this; anything longer is a broken file or an attack, not a name.
pub const MAX_FIELD: usize = 1_000;

/// One valid row.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub line: u64,
    pub crime_reference: String,
    pub reported_on: NaiveDate,
    /// The day the police referred the victim, when the file says (`referred_on`).
    pub referred_on: Option<NaiveDate>,
    pub offence_category: OffenceCategory,
    pub domestic_abuse: bool,
    pub forename: String,
    pub surname: String,
    pub date_of_birth: NaiveDate,
    pub gender: Gender,
    pub ethnicity: Option<Ethnicity>,
    pub disability: YesNoUnknown,
    pub nationality: Option<Nationality>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address_line: Option<String>,
    pub postcode: Option<String>,
    pub safe_contact: SafeContact,
    pub consent: ConsentBasis,
    pub enhanced_rights: bool,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub line: u64,
    pub column: Option<&'static str>,
    pub message: String,
    /// The row's crime reference when it could be read, to help find the row.
    pub crime_reference: Option<String>,
}

#[derive(Debug, Default)]
pub struct Feed {
    pub rows: Vec<FeedRow>,
    pub rejects: Vec<Reject>,
}

/// The file as a whole cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the file has no header row")]
    Empty,
    #[error("the header row is missing these columns: {}", .0.join(", "))]
    MissingColumns(Vec<&'static str>),
    #[error("the file could not be read: {0}")]
    Unreadable(String),
}

/// Reads and validates a feed. `today` bounds dates (nothing reported or born in the future).
///
/// A row of the feed is one line of the file: every line after the header is read on its own, so each is either a
/// row or a reject with its number, and the counts add up to the file's lines. A quote left open (which a CSV
/// reader would carry on to the next quote, swallowing the lines between) rejects its own line only.
pub fn parse(input: impl Read, today: NaiveDate) -> Result<Feed, FeedError> {
    let mut input = input;
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| FeedError::Unreadable(e.to_string()))?;
    let mut lines = bytes.split(|b| *b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let header = match lines.next().map(one_record) {
        Some(Ok(Some(header))) if !header.is_empty() => header,
        Some(Err(error)) => return Err(FeedError::Unreadable(error.to_string())),
        _ => return Err(FeedError::Empty),
    };
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let missing: Vec<&'static str> = COLUMNS.iter().copied().filter(|c| !names.iter().any(|n| n == c)).collect();
    if !missing.is_empty() {
        return Err(FeedError::MissingColumns(missing));
    }
    // Where each column of COLUMNS, then of OPTIONAL_COLUMNS, is in the file (an optional one may be absent).
    let index: Vec<Option<usize>> =
        COLUMNS.iter().chain(OPTIONAL_COLUMNS.iter()).map(|c| names.iter().position(|n| n == c)).collect();
    let mut feed = Feed::default();
    for (number, text) in lines.enumerate() {
        let line = number as u64 + 2;
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let unreadable = |message: String| Reject { line, column: None, message, crime_reference: None };
        if text.iter().filter(|b| **b == b'"').count() % 2 == 1 {
            feed.rejects.push(unreadable(
                "the row could not be read as CSV: a quote is opened and not closed on this line".into(),
            ));
            continue;
        }
        match one_record(text) {
            Ok(Some(record)) => match validate(&record, &index, line, today) {
                Ok(row) => feed.rows.push(row),
                Err(reject) => feed.rejects.push(reject),
            },
            Ok(None) => {}
            Err(error) => feed.rejects.push(unreadable(format!(
                "the row could not be read as CSV (check its quotes): {}",
                error.kind_text()
            ))),
        }
    }
    Ok(feed)
}

/// The one CSV record of one line of the file.
fn one_record(line: &[u8]) -> Result<Option<csv::ByteRecord>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(line);
    let mut record = csv::ByteRecord::new();
    Ok(reader.read_byte_record(&mut record)?.then_some(record))
}

trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for csv::Error {
    fn kind_text(&self) -> String {
        match self.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("it has {len} fields where the header has {expected_len}")
            }
            _ => self.to_string(),
        }
    }
}

/// One row's fields by column name, with the checks every field shares.
struct Fields<'a> {
    record: &'a csv::ByteRecord,
    index: &'a [Option<usize>],
    line: u64,
    crime_reference: Option<String>,
}

impl Fields<'_> {
    fn reject(&self, column: &'static str, message: impl Into<String>) -> Reject {
        Reject {
            line: self.line,
            column: Some(column),
            message: message.into(),
            crime_reference: self.crime_reference.clone(),
        }
    }

    /// The trimmed text of a column ("" when the row is short or the optional column absent), checked for length
    /// and encoding.
    fn text(&self, column: &'static str) -> Result<String, Reject> {
        let position = COLUMNS.iter().chain(OPTIONAL_COLUMNS.iter()).position(|c| *c == column).expect("known column");
        let bytes = self.index[position].and_then(|at| self.record.get(at)).unwrap_or_default();
        if bytes.len() > MAX_FIELD {
            return Err(self.reject(
                column,
                format!("{column} is {} characters long; at most {MAX_FIELD} are allowed", bytes.len()),
            ));
        }
        let text =
            std::str::from_utf8(bytes).map_err(|_| self.reject(column, format!("{column} is not valid UTF-8 text")))?;
        Ok(text.trim().to_owned())
    }

    fn optional(&self, column: &'static str) -> Result<Option<String>, Reject> {
        Ok(Some(self.text(column)?).filter(|t| !t.is_empty()))
    }

    fn required(&self, column: &'static str) -> Result<String, Reject> {
        self.optional(column)?.ok_or_else(|| self.reject(column, format!("{column} is empty; it is required")))
    }

    /// Free text a person typed: refused when it could run as a spreadsheet formula.
    fn free_text(&self, column: &'static str, max: usize, required: bool) -> Result<Option<String>, Reject> {
        let value = if required { Some(self.required(column)?) } else { self.optional(column)? };
        if let Some(text) = &value {
            if text.chars().count() > max {
                return Err(self.reject(column, format!("{column} is longer than {max} characters")));
            }
            // NUL, tabs, line breaks and other control characters are never part of a name or an address.
            if text.chars().any(char::is_control) {
                return Err(self.reject(column, format!("{column} holds a control character (such as NUL)")));
            }
            if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                return Err(self.reject(
                    column,
                    format!("{column} starts with {:?}, which spreadsheets run as a formula", &text[..1]),
                ));
            }
        }
        Ok(value)
    }

    fn date(&self, column: &'static str, today: NaiveDate) -> Result<NaiveDate, Reject> {
        let text = self.required(column)?;
        self.parse_date(column, &text, today)
    }

    fn optional_date(&self, column: &'static str, today: NaiveDate) -> Result<Option<NaiveDate>, Reject> {
        self.optional(column)?.map(|text| self.parse_date(column, &text, today)).transpose()
    }

    fn parse_date(&self, column: &'static str, text: &str, today: NaiveDate) -> Result<NaiveDate, Reject> {
        // The value is not repeated: a date of birth is personal data.
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| self.reject(column, format!("{column} is not a date in the form YYYY-MM-DD")))?;
        if date > today {
            return Err(self.reject(column, format!("{column} is in the future")));
        }
        Ok(date)
    }

    fn yes_no(&self, column: &'static str, blank: bool) -> Result<bool, Reject> {
        match self.text(column)?.to_ascii_uppercase().as_str() {
            "Y" => Ok(true),
            "N" => Ok(false),
            "" => Ok(blank),
            other => Err(self.reject(column, format!("{column} must be Y or N, not {other:?}"))),
        }
    }

    fn yes_no_unknown(&self, column: &'static str) -> Result<YesNoUnknown, Reject> {
        match self.text(column)?.to_ascii_uppercase().as_str() {
            "Y" => Ok(YesNoUnknown::Yes),
            "N" => Ok(YesNoUnknown::No),
            "U" | "" => Ok(YesNoUnknown::Unknown),
            other => Err(self.reject(column, format!("{column} must be Y, N or U, not {other:?}"))),
        }
    }

    fn safety(&self, column: &'static str) -> Result<Safety, Reject> {
        Ok(match self.yes_no_unknown(column)? {
            YesNoUnknown::Yes => Safety::Safe,
            YesNoUnknown::No => Safety::Unsafe,
            YesNoUnknown::Unknown => Safety::Unknown,
        })
    }
}

fn offence(text: &str) -> Option<OffenceCategory> {
    casetrack_eventstore::codes::parse(&text.to_ascii_lowercase())
}

fn validate(record: &csv::ByteRecord, index: &[Option<usize>], line: u64, today: NaiveDate) -> Result<FeedRow, Reject> {
    let mut fields = Fields { record, index, line, crime_reference: None };
    let crime_reference = fields.required("crime_reference")?;
    if crime_reference.len() > 64 || !crime_reference.chars().all(|c| c.is_ascii_alphanumeric() || "/-_ .".contains(c))
    {
        return Err(fields.reject(
            "crime_reference",
            "crime_reference must be at most 64 letters, digits, spaces or / - _ . characters",
        ));
    }
    fields.crime_reference = Some(crime_reference.clone());
    let f = &fields;
    let offence_text = f.required("offence_category")?;
    let offence_category = offence(&offence_text).ok_or_else(|| {
        f.reject("offence_category", format!("offence_category {offence_text:?} is not one of the feed's categories"))
    })?;
    let email = f.optional("email")?;
    if email.as_ref().is_some_and(|e| e.len() > 254 || !e.contains('@') || e.contains(char::is_whitespace)) {
        return Err(f.reject("email", "email is not an email address"));
    }
    let phone = f.optional("phone")?;
    if phone.as_ref().is_some_and(|p| p.len() > 20 || !p.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c))) {
        return Err(f.reject("phone", "phone may hold only digits, spaces, + ( ) and -, at most 20 characters"));
    }
    let postcode = f.optional("postcode")?.map(|p| p.to_ascii_uppercase());
    if postcode.as_ref().is_some_and(|p| p.len() > 8 || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')) {
        return Err(f.reject("postcode", "postcode is not a UK postcode"));
    }
    let gender = match f.text("gender")?.to_ascii_uppercase().as_str() {
        "F" => Gender::Female,
        "M" => Gender::Male,
        "X" => Gender::Other,
        "U" | "" => Gender::Unknown,
        other => return Err(f.reject("gender", format!("gender must be F, M, X or U, not {other:?}"))),
    };
    let ethnicity = f
        .optional("ethnicity")?
        .map(|code| Ethnicity::parse(&code))
        .transpose()
        .map_err(|m| f.reject("ethnicity", m))?;
    let nationality = f
        .optional("nationality")?
        .map(|code| Nationality::parse(&code))
        .transpose()
        .map_err(|m| f.reject("nationality", m))?;
    let consent = match f.required("consent_basis")?.to_ascii_lowercase().as_str() {
        "opt_out" => ConsentBasis::OptOut,
        "explicit" => ConsentBasis::Explicit,
        "withheld" => ConsentBasis::Withheld,
        other => {
            return Err(f.reject(
                "consent_basis",
                format!("consent_basis must be opt_out, explicit or withheld, not {other:?}"),
            ));
        }
    };
    Ok(FeedRow {
        line,
        reported_on: f.date("reported_date", today)?,
        referred_on: f.optional_date("referred_on", today)?,
        offence_category,
        domestic_abuse: f.yes_no("domestic_abuse", false)?,
        forename: f.free_text("victim_forename", 100, true)?.expect("required"),
        surname: f.free_text("victim_surname", 100, true)?.expect("required"),
        date_of_birth: f.date("date_of_birth", today)?,
        gender,
        ethnicity,
        disability: f.yes_no_unknown("disability")?,
        nationality,
        phone,
        email,
        address_line: f.free_text("address_line", 200, false)?,
        postcode,
        safe_contact: SafeContact {
            phone: f.safety("safe_to_phone")?,
            voicemail: f.safety("safe_to_voicemail")?,
            text: f.safety("safe_to_text")?,
            email: f.safety("safe_to_email")?,
            letter: f.safety("safe_to_write")?,
            visit: Safety::Unknown,
        },
        consent,
        enhanced_rights: f.yes_no("enhanced_rights", false)?,
        crime_reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "crime_reference,reported_date,offence_category,domestic_abuse,victim_forename,victim_surname,\
date_of_birth,gender,ethnicity,disability,phone,email,address_line,postcode,safe_to_phone,safe_to_voicemail,safe_to_text,\
safe_to_email,safe_to_write,consent_basis,enhanced_rights,force_only_column";

    const GOOD: &str = "CR/2026/1,2026-11-20,violence_with_injury,Y,Alex,Example,1990-02-03,F,W1,N,07700 900123,\
alex@example.org,1 High Street,AB1 2CD,Y,N,U,Y,N,opt_out,N,ignored";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn feed(rows: &[&str]) -> Feed {
        let text = format!("{HEADER}\n{}\n", rows.join("\n"));
        parse(text.as_bytes(), today()).unwrap()
    }

    fn only_reject(rows: &[&str]) -> Reject {
        let feed = feed(rows);
        assert!(feed.rows.is_empty(), "{:?}", feed.rows);
        assert_eq!(feed.rejects.len(), 1, "{:?}", feed.rejects);
        feed.rejects[0].clone()
    }

    #[test]
    fn a_good_row_is_read_whole_and_unknown_columns_are_ignored() {
        let feed = feed(&[GOOD]);
        assert!(feed.rejects.is_empty(), "{:?}", feed.rejects);
        let row = &feed.rows[0];
        assert_eq!((row.line, row.crime_reference.as_str(), row.forename.as_str()), (2, "CR/2026/1", "Alex"));
        assert_eq!(row.offence_category, OffenceCategory::ViolenceWithInjury);
        assert!(row.domestic_abuse && !row.enhanced_rights);
        assert_eq!(
            (row.safe_contact.phone, row.safe_contact.voicemail, row.safe_contact.text),
            (Safety::Safe, Safety::Unsafe, Safety::Unknown)
        );
        assert_eq!(row.ethnicity.as_ref().map(|e| e.code()), Some("W1"));
        assert_eq!(row.postcode.as_deref(), Some("AB1 2CD"));
    }

    #[test]
    fn missing_columns_refuse_the_whole_file_by_name() {
        let error = parse("crime_reference,reported_date\nCR/1,2026-01-01\n".as_bytes(), today()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("missing these columns") && message.contains("safe_to_phone"), "{message}");
        assert!(matches!(parse("".as_bytes(), today()), Err(FeedError::Empty)));
    }

    #[test]
    fn each_bad_value_names_its_line_and_column_and_good_rows_still_pass() {
        let bad_date = GOOD.replace("2026-11-20", "20/11/2026");
        let future = GOOD.replace("1990-02-03", "2030-01-01");
        let bad_offence = GOOD.replace("violence_with_injury", "arson");
        let bad_consent = GOOD.replace("opt_out", "maybe");
        let feed =
            feed(&[GOOD, &bad_date, &future, &bad_offence, &bad_consent, &GOOD.replace("CR/2026/1", "CR/2026/2")]);
        assert_eq!(feed.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 7]);
        let rejects: Vec<(u64, Option<&str>)> = feed.rejects.iter().map(|r| (r.line, r.column)).collect();
        assert_eq!(
            rejects,
            vec![
                (3, Some("reported_date")),
                (4, Some("date_of_birth")),
                (5, Some("offence_category")),
                (6, Some("consent_basis"))
            ]
        );
        assert!(feed.rejects[0].message.contains("YYYY-MM-DD"));
        assert!(feed.rejects[1].message.contains("in the future"));
        assert_eq!(feed.rejects[0].crime_reference.as_deref(), Some("CR/2026/1"));
    }

    #[test]
    fn formulas_in_names_are_refused() {
        let reject = only_reject(&[&GOOD.replace("Alex", "=HYPERLINK(\"http://x\";\"click\")")]);
        assert_eq!(reject.column, Some("victim_forename"));
        assert!(reject.message.contains("formula"), "{}", reject.message);
        assert_eq!(only_reject(&[&GOOD.replace("1 High Street", "@SUM(A1)")]).column, Some("address_line"));
    }

    #[test]
    fn a_ten_megabyte_field_is_refused_without_echoing_it() {
        let huge = "x".repeat(10 * 1024 * 1024);
        let reject = only_reject(&[&GOOD.replace("Example", &huge)]);
        assert_eq!(reject.column, Some("victim_surname"));
        assert!(reject.message.len() < 200);
    }

    #[test]
    fn non_utf8_is_refused_with_its_line() {
        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend(GOOD.replace("Alex", "Al\u{0}x").into_bytes().iter().map(|b| if *b == 0 { 0xff } else { *b }));
        bytes.push(b'\n');
        let feed = parse(bytes.as_slice(), today()).unwrap();
        assert_eq!(feed.rejects.len(), 1);
        assert_eq!((feed.rejects[0].line, feed.rejects[0].column), (2, Some("victim_forename")));
        assert!(feed.rejects[0].message.contains("UTF-8"));
    }

    #[test]
    fn broken_quoting_rejects_the_row_and_not_the_file() {
        let broken = GOOD.replace(",Alex,", ",\"Alex,");
        let feed = feed(&[GOOD, &broken]);
        assert_eq!(feed.rows.len(), 1, "{:?}", feed.rejects);
        assert_eq!(feed.rejects.len(), 1);
        assert_eq!(feed.rejects[0].line, 3);
    }

    #[test]
    fn control_characters_in_names_are_refused() {
        assert_eq!(only_reject(&[&GOOD.replace("Alex", "Al\u{0}ex")]).column, Some("victim_forename"));
        assert_eq!(only_reject(&[&GOOD.replace("Example", "Exa\u{7}mple")]).column, Some("victim_surname"));
    }

    #[test]
    fn a_quote_left_open_rejects_its_line_and_every_other_line_is_counted() {
        // A CSV reader would read on from the open quote to the next one, swallowing the lines between.
        let open = GOOD.replace(",Alex,", ",\"Alex,");
        let later = GOOD.replace("CR/2026/1", "CR/2026/3");
        let closing = GOOD.replace("CR/2026/1", "CR/2026/4").replace(",Example,", ",\"Example\",");
        let feed = feed(&[GOOD, &open, &later, &closing, &GOOD.replace("CR/2026/1", "CR/2026/5")]);
        assert_eq!(feed.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 4, 5, 6]);
        assert_eq!(feed.rejects.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3]);
        assert!(feed.rejects[0].message.contains("quote"), "{}", feed.rejects[0].message);
    }

    #[test]
    fn the_day_of_referral_is_read_when_the_file_has_it() {
        assert_eq!(feed(&[GOOD]).rows[0].referred_on, None, "a file without the column is read as before");
        let header = format!("{HEADER},referred_on");
        let read = |day: &str| parse(format!("{header}\n{GOOD},{day}\n").as_bytes(), today());
        assert_eq!(read("2019-05-07").unwrap().rows[0].referred_on, NaiveDate::from_ymd_opt(2019, 5, 7));
        assert_eq!(read("").unwrap().rows[0].referred_on, None);
        let future = read("2026-11-23").unwrap();
        assert_eq!(future.rejects[0].column, Some("referred_on"));
        assert!(future.rejects[0].message.contains("in the future"));
    }

    #[test]
    fn short_and_long_rows_are_refused() {
        let short = "CR/9,2026-11-20,theft";
        let reject = only_reject(&[short]);
        assert_eq!(reject.line, 2);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const HEADER: &str = "crime_reference,reported_date,offence_category,domestic_abuse,victim_forename,victim_surname,\
date_of_birth,gender,ethnicity,disability,phone,email,address_line,postcode,safe_to_phone,safe_to_voicemail,safe_to_text,\
safe_to_email,safe_to_write,consent_basis,enhanced_rights";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// A line of a feed: a good row with one field changed to anything, or any bytes at all.
    fn line() -> impl Strategy<Value = Vec<u8>> {
        let good = "CR/2026/1,2026-11-20,violence_with_injury,Y,Alex,Example,1990-02-03,F,W1,N,07700 900123,\
alex@example.org,1 High Street,AB1 2CD,Y,N,U,Y,N,opt_out,N";
        prop_oneof![
            (0..21_usize, "\\PC{0,30}").prop_map(move |(column, value)| {
                let mut fields: Vec<String> = good.split(',').map(str::to_owned).collect();
                fields[column] = value;
                fields.join(",").into_bytes()
            }),
            proptest::collection::vec(any::<u8>().prop_filter("one line", |b| *b != b'\n'), 0..80),
        ]
    }

    proptest! {
        /// No file makes the reader panic, and every line after the header is a row, a reject or blank: the counts
        /// add up to the file's lines.
        #[test]
        fn every_line_is_a_row_or_a_reject(lines in proptest::collection::vec(line(), 0..12)) {
            let mut file = format!("{HEADER}\n").into_bytes();
            for line in &lines {
                file.extend_from_slice(line);
                file.push(b'\n');
            }
            let feed = parse(file.as_slice(), today()).expect("the header is good");
            let blank = lines
                .iter()
                .filter(|l| l.strip_suffix(b"\r").unwrap_or(l).iter().all(u8::is_ascii_whitespace))
                .count();
            prop_assert_eq!(feed.rows.len() + feed.rejects.len() + blank, lines.len());
            for reject in &feed.rejects {
                prop_assert!(!reject.message.is_empty());
                prop_assert!((2..=lines.len() as u64 + 1).contains(&reject.line));
            }
        }

        /// Any bytes at all, header included: read, or refused with a reason; never a panic.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            match parse(bytes.as_slice(), today()) {
                Ok(feed) => prop_assert!(feed.rejects.iter().all(|r| !r.message.is_empty())),
                Err(error) => prop_assert!(!error.to_string().is_empty()),
            }
        }
    }
}
