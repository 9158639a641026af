//! The funder's return: the quarterly (or yearly) monitoring return a Police and Crime Commissioner gathers from each
//! victim service it funds, filled from the figures, one sheet per service. Its fields follow the Ministry of
//! Justice's victim services grant monitoring (see docs/metrics.md, "The funder's return"): referrals received,
//! victims supported, referrals by crime type (domestic abuse, sexual violence, other), by the protected
//! characteristics held (age, sex, ethnicity, disability), the cope-and-recover outcome measures, and Victims' Code
//! compliance. Every sheet has the same rows, zeros included, so that returns can be laid side by side.

use std::collections::BTreeMap;

use casetrack_web::Context;
use casetrack_web::http::ApiError;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde_json::Value;
use sqlx::Row as _;

use crate::labels::{service_name, words};
use crate::suppression::{Shown, one, suppress_line};
use crate::views::report::{Report, Request, report};

/// One field of a return.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub section: &'static str,
    pub field: String,
    /// A count (or a share, 0 to 1), or a suppression mark.
    pub value: Value,
}

/// One service's return.
#[derive(Debug, Clone)]
pub struct ServiceReturn {
    pub service: String,
    pub name: String,
    pub fields: Vec<Field>,
}

/// A return for a period.
#[derive(Debug, Clone)]
pub struct FundersReturn {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub published: bool,
    pub services: Vec<ServiceReturn>,
}

pub const REFERRALS: &str = "1. Referrals and victims supported";
pub const CRIME_TYPE: &str = "2. Referrals received by crime type";
pub const CHARACTERISTICS: &str = "3. Referrals received by protected characteristic";
pub const OUTCOMES: &str = "4. Cope and recover: outcomes at cases closed in the period";
pub const CODE: &str = "5. Victims' Code compliance";

/// The Ministry of Justice's core outcome measures, in the order of its return; a service's other measures follow.
const CORE_MEASURES: [(&str, &str); 5] = [
    ("health_wellbeing", "Improved health and wellbeing"),
    ("informed_empowered", "Better informed and empowered to act"),
    ("cope", "Better able to cope with everyday life"),
    ("safer", "Feels safer"),
    ("cjs_experience", "Better experience of the criminal justice system"),
];

/// The protected characteristics held, each with every value it can take, as (column, label, values and labels).
type Characteristic = (&'static str, &'static str, &'static [(&'static str, &'static str)]);
const CHARACTERISTIC_VALUES: [Characteristic; 4] = [
    (
        "age_band",
        "Age",
        &[
            ("under_18", "under 18"),
            ("18_24", "18 to 24"),
            ("25_34", "25 to 34"),
            ("35_44", "35 to 44"),
            ("45_54", "45 to 54"),
            ("55_64", "55 to 64"),
            ("65_plus", "65 or over"),
            ("not_known", "not known"),
        ],
    ),
    ("gender", "Sex", &[("female", "female"), ("male", "male"), ("other", "other"), ("unknown", "not known")]),
    (
        "ethnic_group",
        "Ethnicity",
        &[
            ("white", "White"),
            ("mixed", "Mixed or multiple ethnic groups"),
            ("asian", "Asian or Asian British"),
            ("black", "Black, Black British, Caribbean or African"),
            ("other", "Other ethnic group"),
            ("not_stated", "not stated"),
        ],
    ),
    ("disability", "Disability", &[("yes", "disabled"), ("no", "not disabled"), ("unknown", "not known")]),
];

/// The crime types of the return, by the referral's domestic-abuse flag and offence category: domestic abuse first
/// (whatever the offence), then sexual violence (a sexual offence not flagged as domestic abuse), then the rest.
const CRIME_TYPES: [(&str, &str); 3] =
    [("domestic_abuse", "Domestic abuse"), ("sexual_violence", "Sexual violence"), ("other", "Other crime types")];

fn db(error: sqlx::Error) -> ApiError {
    ApiError::unavailable(error)
}

/// Referrals received in the period per service and value of `column` (a column of `reporting_units`, or the crime
/// type); `expression` is SQL over that table's columns, one of this module's constants.
async fn received_by(
    ctx: &Context,
    request: &Request,
    expression: &str,
) -> Result<BTreeMap<String, BTreeMap<String, u64>>, ApiError> {
    let sql = format!(
        "SELECT service, {expression}, COUNT(*) FROM reporting_units WHERE received_day >= $1 AND received_day <= $2 \
         GROUP BY service, {expression}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(request.from.to_string())
        .bind(request.to.to_string())
        .fetch_all(ctx.db.pool())
        .await
        .map_err(db)?;
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for row in rows {
        let count: i64 = row.try_get(2).map_err(db)?;
        out.entry(row.try_get(0).map_err(db)?)
            .or_default()
            .insert(row.try_get(1).map_err(db)?, u64::try_from(count).unwrap_or(0));
    }
    Ok(out)
}

const CRIME_TYPE_SQL: &str = "CASE WHEN domestic_abuse = 'yes' THEN 'domestic_abuse' \
                              WHEN offence = 'sexual_offence' THEN 'sexual_violence' ELSE 'other' END";

/// The return for the request's period, every service (or the one asked for); exact, or prepared for publication.
pub async fn funders_return(
    ctx: &Context,
    request: &Request,
    publish: bool,
    threshold: u64,
) -> Result<FundersReturn, ApiError> {
    let request = Request { by: None, ..request.clone() };
    let figures: Report = report(ctx, &request).await?;
    let crime = received_by(ctx, &request, CRIME_TYPE_SQL).await?;
    let mut characteristics = Vec::new();
    for (column, _, _) in CHARACTERISTIC_VALUES {
        characteristics.push(received_by(ctx, &request, column).await?);
    }
    let names = |code: &str| figures.name(code);
    let mut services = Vec::new();
    let mut ordered: Vec<&crate::views::report::ServiceReport> = figures.services.iter().collect();
    ordered.sort_by_key(|s| (s.service != "hub", s.service.clone()));
    for service in ordered {
        if request.service.as_deref().is_some_and(|only| only != service.service) {
            continue;
        }
        let value = serde_json::to_value(service).expect("a report serialises");
        let count = |v: &Value| v.as_u64().unwrap_or(0);
        let mut fields = Vec::new();
        let mut push = |section, field: String, value: Value| fields.push(Field { section, field, value });
        let received = count(&value["referrals_received"]);
        // Referrals received is the total of each breakdown line: published, it is hidden if any line hides it.
        let mut received_shown = one(received, threshold);
        let line = |values: Vec<u64>, received_shown: &mut Shown| -> Vec<Value> {
            if !publish {
                return values.into_iter().map(Value::from).collect();
            }
            let (cells, total) = suppress_line(&values, threshold);
            if total != Shown::Count(received) {
                *received_shown = total;
            }
            cells.into_iter().map(|shown| shown_value(shown, threshold)).collect()
        };
        let empty = BTreeMap::new();
        let by_crime = crime.get(&service.service).unwrap_or(&empty);
        let crime_values = line(
            CRIME_TYPES.iter().map(|(code, _)| by_crime.get(*code).copied().unwrap_or(0)).collect(),
            &mut received_shown,
        );
        let mut characteristic_values = Vec::new();
        for ((_, _, values), counts) in CHARACTERISTIC_VALUES.iter().zip(&characteristics) {
            let counts = counts.get(&service.service).unwrap_or(&empty);
            characteristic_values.push(line(
                values.iter().map(|(code, _)| counts.get(*code).copied().unwrap_or(0)).collect(),
                &mut received_shown,
            ));
        }
        let single =
            |v: &Value| if publish { shown_value(one(count(v), threshold), threshold) } else { Value::from(count(v)) };
        let caseload = &value["caseload"];
        push(
            REFERRALS,
            "Referrals received".into(),
            if publish { shown_value(received_shown, threshold) } else { Value::from(received) },
        );
        push(REFERRALS, "Victims referred (different people)".into(), single(&value["victims_referred"]));
        push(REFERRALS, "Victims supported in the period (new and carried in)".into(), single(&caseload["supported"]));
        push(REFERRALS, "of whom new in the period".into(), single(&caseload["new"]));
        push(REFERRALS, "of whom carried in from before the period".into(), single(&caseload["carried_in"]));
        push(REFERRALS, "of whom children (under 18 when referred)".into(), single(&caseload["supported_under_18"]));
        push(REFERRALS, "Open cases at the end of the period".into(), single(&caseload["open_at_end"]));
        for ((_, label), value) in CRIME_TYPES.iter().zip(crime_values) {
            push(CRIME_TYPE, (*label).to_owned(), value);
        }
        for ((_, heading, values), shown) in CHARACTERISTIC_VALUES.iter().zip(characteristic_values) {
            for ((_, label), value) in values.iter().zip(shown) {
                push(CHARACTERISTICS, format!("{heading}: {label}"), value);
            }
        }
        let outcomes = value["outcomes"].as_object().cloned().unwrap_or_default();
        let mut measures: Vec<(String, String)> =
            CORE_MEASURES.iter().map(|(code, label)| ((*code).to_owned(), (*label).to_owned())).collect();
        for code in outcomes.keys() {
            if !measures.iter().any(|(c, _)| c == code) {
                let label = names(&format!("measure:{code}")).unwrap_or_else(|| words(code));
                measures.push((code.clone(), label));
            }
        }
        for (code, label) in measures {
            let asked = count(&outcomes.get(&code).map_or(Value::Null, |o| o["asked"].clone()));
            let improved = count(&outcomes.get(&code).map_or(Value::Null, |o| o["improved"].clone()));
            let (improved_shown, asked_shown) = if publish {
                let (i, a) = crate::suppression::part_of(improved, asked, threshold);
                (shown_value(i, threshold), shown_value(a, threshold))
            } else {
                (Value::from(improved), Value::from(asked))
            };
            push(OUTCOMES, format!("{label}: victims asked"), asked_shown);
            push(OUTCOMES, format!("{label}: improved"), improved_shown);
        }
        let code = &value["victims_code"];
        for (group, label, days) in [("enhanced", "Victims with enhanced rights", 2), ("standard", "Other victims", 5)]
        {
            let victims = count(&code[group]["victims"]);
            let contacted = count(&code[group]["contacted_on_time"]);
            let needs = count(&code[group]["needs_assessed_on_time"]);
            let part = |n: u64| {
                if publish {
                    shown_value(crate::suppression::part_of(n, victims, threshold).0, threshold)
                } else {
                    Value::from(n)
                }
            };
            push(CODE, format!("{label} (due within {days} working days)"), single(&Value::from(victims)));
            push(CODE, format!("{label}: first contacted in time"), part(contacted));
            if service.service == "hub" {
                push(CODE, format!("{label}: needs assessed in time"), part(needs));
            }
        }
        services.push(ServiceReturn {
            service: service.service.clone(),
            name: service_name(&service.service, &names),
            fields,
        });
    }
    Ok(FundersReturn { from: request.from, to: request.to, published: publish, services })
}

fn shown_value(shown: Shown, threshold: u64) -> Value {
    match shown {
        Shown::Count(n) => Value::from(n),
        other => Value::from(other.text(threshold)),
    }
}

/// The period as a return names it: "FY2019-20 Q2 (1 July 2019 to 30 September 2019)" when it is a quarter or a
/// financial year, else its days.
pub fn period_name(from: chrono::NaiveDate, to: chrono::NaiveDate) -> String {
    use chrono::Datelike as _;
    let days = format!("{} to {}", from.format("%-d %B %Y"), to.format("%-d %B %Y"));
    let year = if from.month() >= 4 { from.year() } else { from.year() - 1 };
    let fy = format!("FY{}-{:02}", year, (year + 1) % 100);
    for q in 1..=4 {
        if crate::periods::parse(&format!("{fy} Q{q}")).is_ok_and(|p| p.from == from && p.to == to) {
            return format!("{fy} Q{q} ({days})");
        }
    }
    if crate::periods::parse(&fy).is_ok_and(|p| p.from == from && p.to == to) {
        return format!("{fy} ({days})");
    }
    days
}

/// The return as a workbook: a sheet per service (section, field, value; header rows frozen), and a notes sheet.
pub fn workbook(funders: &FundersReturn) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let count = Format::new().set_num_format("#,##0");
    let period = period_name(funders.from, funders.to);
    let mut used: Vec<String> = Vec::new();
    for service in &funders.services {
        let sheet = book.add_worksheet();
        let mut sheet_name: String =
            service.name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect::<String>().trim().to_owned();
        if used.contains(&sheet_name) {
            sheet_name = service.service.chars().take(31).collect();
        }
        used.push(sheet_name.clone());
        sheet.set_name(&sheet_name)?;
        sheet.set_column_width(0, 52)?;
        sheet.set_column_width(1, 64)?;
        sheet.set_column_width(2, 14)?;
        sheet.write_with_format(0, 0, format!("Victim services monitoring return: {}", service.name), &title)?;
        sheet.write(1, 0, format!("Period: {period}"))?;
        sheet.write(
            2,
            0,
            if funders.published {
                "Prepared for publication: small numbers hidden (see Notes)."
            } else {
                "Exact figures, for the commissioner and the funder: not for publication as they stand."
            },
        )?;
        sheet.write_with_format(4, 0, "Section", &bold)?;
        sheet.write_with_format(4, 1, "Field", &bold)?;
        sheet.write_with_format(4, 2, "Value", &bold)?;
        sheet.set_freeze_panes(5, 0)?;
        for (i, field) in service.fields.iter().enumerate() {
            let row = 5 + i as u32;
            sheet.write(row, 0, field.section)?;
            sheet.write(row, 1, &field.field)?;
            match field.value.as_f64() {
                Some(n) => sheet.write_with_format(row, 2, n, &count)?,
                None => sheet.write(row, 2, crate::export::cell(&field.value))?,
            };
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name("Notes")?;
    sheet.set_column_width(0, 36)?;
    sheet.set_column_width(1, 110)?;
    let wrap = Format::new().set_text_wrap();
    sheet.write_with_format(0, 0, "About this return", &title)?;
    for (i, (name, text)) in notes(&period, funders.published).into_iter().enumerate() {
        sheet.write_with_format(2 + i as u32, 0, name, &bold)?;
        sheet.write_with_format(2 + i as u32, 1, text, &wrap)?;
    }
    book.save_to_buffer()
}

/// The return as CSV, one row per field: service, section, field, value.
pub fn csv(funders: &FundersReturn) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["period", "service", "section", "field", "value"])?;
    let period = period_name(funders.from, funders.to);
    for service in &funders.services {
        for field in &service.fields {
            writer.write_record([
                period.as_str(),
                service.name.as_str(),
                field.section,
                field.field.as_str(),
                &crate::export::cell(&field.value),
            ])?;
        }
    }
    Ok(String::from_utf8(writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?)
}

fn notes(period: &str, published: bool) -> Vec<(&'static str, String)> {
    vec![
        ("Period", format!("{period}, whole days in England and Wales.")),
        (
            "What it follows",
            "The Ministry of Justice's monitoring of the victim services that Police and Crime Commissioners fund: \
             referrals received, victims supported, crime type, the protected characteristics held, the core \
             cope-and-recover outcome measures, and Victims' Code compliance."
                .into(),
        ),
        ("Referrals received", "Referrals (for a specialist service, cases) received in the period.".into()),
        (
            "Victims supported",
            "Cases open at some point in the period: those carried in from before it and those new in it.".into(),
        ),
        (
            "Crime type",
            "Domestic abuse: referrals flagged as domestic abuse, whatever the offence. Sexual violence: referrals \
             for a sexual offence not flagged as domestic abuse. Other: every other referral. Each referral is \
             counted once."
                .into(),
        ),
        (
            "Protected characteristics",
            "Of the referrals received in the period, as recorded when each was received. Characteristics Casetrack \
             does not record (religion, sexual orientation, gender reassignment, pregnancy, marriage) are not in the \
             return."
                .into(),
        ),
        (
            "Cope and recover",
            "At cases closed in the period: how many victims were asked about each measure, and how many said it \
             had improved as a result of support."
                .into(),
        ),
        (
            "Victims' Code",
            "Of the referrals received in the period (not counting victims who asked not to be contacted): how \
             many were first reached, and (at the hub) had their needs assessed, within the Code's time: 2 working \
             days from reporting the crime for victims entitled to enhanced rights, 5 for others. Weekends and bank \
             holidays in England and Wales are not counted."
                .into(),
        ),
        (
            "Small numbers",
            if published {
                "Counts from 1 to 4 are shown as \"<5\", and a count that would let one be worked out from a total as \
                 \"[c]\", so that nobody can be recognised."
                    .into()
            } else {
                "Exact counts: hide small numbers before publishing (ask for the return prepared for publication)."
                    .into()
            },
        ),
    ]
}
