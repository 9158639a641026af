//! A victim's characteristics as codes, for statistics (never free text): age band at referral, gender, ethnicity
//! (the police self-defined 18+1 codes, rolled up into the five census groups), disability, nationality (an ISO
//! 3166-1 country code, from the reference list `reference/iso-3166-1.csv`).

use chrono::{Datelike, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The characteristics recorded with a referral.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VictimProfile {
    /// Age band on the day of referral; absent when the date of birth is not known.
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    pub gender: Gender,
    /// Police self-defined ethnicity code (W1 ... O9, or NS for not stated); absent when not given.
    pub ethnicity: Option<Ethnicity>,
    #[serde(default)]
    pub disability: YesNoUnknown,
    /// Nationality as the victim gives it: an ISO 3166-1 country code; absent when not given.
    #[serde(default)]
    pub nationality: Option<Nationality>,
}

/// Version 1 of the profile, before it held nationality (read by the first versions of the events carrying it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VictimProfileV1 {
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    pub gender: Gender,
    pub ethnicity: Option<Ethnicity>,
    #[serde(default)]
    pub disability: YesNoUnknown,
}

impl From<VictimProfileV1> for VictimProfile {
    /// Nationality was not asked: not given.
    fn from(v1: VictimProfileV1) -> Self {
        Self {
            age_band: v1.age_band,
            gender: v1.gender,
            ethnicity: v1.ethnicity,
            disability: v1.disability,
            nationality: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum AgeBand {
    #[serde(rename = "under_18")]
    Under18,
    #[serde(rename = "18_24")]
    From18To24,
    #[serde(rename = "25_34")]
    From25To34,
    #[serde(rename = "35_44")]
    From35To44,
    #[serde(rename = "45_54")]
    From45To54,
    #[serde(rename = "55_64")]
    From55To64,
    #[serde(rename = "65_plus")]
    From65,
}

impl AgeBand {
    /// The words on a page: `under 18`, `25 to 34`, `65 or over`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Under18 => "under 18",
            Self::From18To24 => "18 to 24",
            Self::From25To34 => "25 to 34",
            Self::From35To44 => "35 to 44",
            Self::From45To54 => "45 to 54",
            Self::From55To64 => "55 to 64",
            Self::From65 => "65 or over",
        }
    }

    /// The band of someone born on `born` on the day `on`; None for a birth date after `on`.
    pub fn at(born: NaiveDate, on: NaiveDate) -> Option<Self> {
        let mut age = on.year() - born.year();
        if (on.month(), on.day()) < (born.month(), born.day()) {
            age -= 1;
        }
        Some(match age {
            ..0 => return None,
            0..=17 => Self::Under18,
            18..=24 => Self::From18To24,
            25..=34 => Self::From25To34,
            35..=44 => Self::From35To44,
            45..=54 => Self::From45To54,
            55..=64 => Self::From55To64,
            _ => Self::From65,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    /// Another gender (X on the police feed).
    Other,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum YesNoUnknown {
    Yes,
    No,
    #[default]
    Unknown,
}

/// A police self-defined ethnicity code: 18 codes and NS (not stated).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Ethnicity(String);

/// The codes, in order.
pub const ETHNICITY_CODES: [&str; 19] =
    ["W1", "W2", "W3", "W9", "M1", "M2", "M3", "M9", "A1", "A2", "A3", "A4", "A9", "B1", "B2", "B9", "O1", "O9", "NS"];

/// The five census groups the codes roll up into, and not stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CensusGroup {
    White,
    Mixed,
    Asian,
    Black,
    Other,
    NotStated,
}

impl Ethnicity {
    pub fn parse(code: &str) -> Result<Self, String> {
        let code = code.trim().to_ascii_uppercase();
        if ETHNICITY_CODES.contains(&code.as_str()) {
            Ok(Self(code))
        } else {
            Err(format!(
                "{code:?} is not a police self-defined ethnicity code ({} or NS)",
                ETHNICITY_CODES[..18].join(", ")
            ))
        }
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    pub fn census_group(&self) -> CensusGroup {
        match self.0.as_bytes()[0] {
            b'W' => CensusGroup::White,
            b'M' => CensusGroup::Mixed,
            b'A' => CensusGroup::Asian,
            b'B' => CensusGroup::Black,
            b'O' => CensusGroup::Other,
            _ => CensusGroup::NotStated,
        }
    }
}

impl TryFrom<String> for Ethnicity {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Ethnicity> for String {
    fn from(value: Ethnicity) -> Self {
        value.0
    }
}

/// A nationality: an ISO 3166-1 alpha-2 country code of the reference list (`GB`, `PL`, `UA`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Nationality(String);

const COUNTRIES: &str = include_str!("../reference/iso-3166-1.csv");

/// The reference list: every ISO 3166-1 country code with its English name, in code order.
pub fn countries() -> impl Iterator<Item = (&'static str, &'static str)> {
    COUNTRIES
        .lines()
        .filter(|line| !line.starts_with('#'))
        .skip(1) // the header
        .filter_map(|line| line.split_once(','))
        .map(|(code, name)| (code, name.trim_matches('"')))
}

impl Nationality {
    /// A country code of the reference list (any case, surrounding spaces ignored), or the rule it breaks.
    pub fn parse(code: &str) -> Result<Self, String> {
        let code = code.trim().to_ascii_uppercase();
        if countries().any(|(known, _)| known == code) {
            Ok(Self(code))
        } else {
            Err(format!("{code:?} is not a country code of ISO 3166-1 (two letters, such as GB, PL or UA)"))
        }
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    /// The country's English name, for pages and exports.
    pub fn name(&self) -> &'static str {
        countries().find(|(code, _)| *code == self.0).map_or("", |(_, name)| name)
    }
}

impl TryFrom<String> for Nationality {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Nationality> for String {
    fn from(value: Nationality) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn age_band_turns_on_the_birthday() {
        assert_eq!(AgeBand::at(day(2008, 11, 23), day(2026, 11, 22)), Some(AgeBand::Under18));
        assert_eq!(AgeBand::at(day(2008, 11, 22), day(2026, 11, 22)), Some(AgeBand::From18To24));
        assert_eq!(AgeBand::at(day(1950, 1, 1), day(2026, 11, 22)), Some(AgeBand::From65));
        assert_eq!(AgeBand::at(day(2027, 1, 1), day(2026, 11, 22)), None);
    }

    #[test]
    fn nationality_is_a_country_code_of_the_reference_list() {
        assert_eq!(Nationality::parse(" pl ").unwrap().code(), "PL");
        assert_eq!(Nationality::parse("GB").unwrap().name(), "United Kingdom");
        assert_eq!(Nationality::parse("VG").unwrap().name(), "Virgin Islands, British");
        assert!(Nationality::parse("UK").unwrap_err().contains("not a country code of ISO 3166-1"));
        assert_eq!(countries().count(), 249);
    }

    #[test]
    fn ethnicity_codes_roll_up_into_census_groups() {
        assert_eq!(Ethnicity::parse("b2").unwrap().census_group(), CensusGroup::Black);
        assert_eq!(Ethnicity::parse("NS").unwrap().census_group(), CensusGroup::NotStated);
        assert!(Ethnicity::parse("Z1").unwrap_err().contains("not a police self-defined ethnicity code"));
        assert_eq!(ETHNICITY_CODES.len(), 19);
    }
}
