//! The service catalogue: which specialist services run, read from configuration (`config/services.toml` is the
//! shipped default, built in; `--services-file` reads another). A service of kind `general` gets the common
//! pathway, pages and figures with no code of its own.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context as _;
use casetrack_proto::ServiceCode;
use casetrack_proto::profile::AgeBand;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::contact::AttemptRule;

/// What a service's cases can record beyond the common pathway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// DASH risk checklist, MARAC referral and hearing.
    Idva,
    /// Adults and children counted apart; criminal-justice stages.
    Isva,
    /// S-DASH, Stalking Protection Orders.
    Stalking,
    /// Restorative justice: explored, suitability, offender consent, the form taken, outcome.
    Rj,
    /// The common pathway only.
    General,
}

/// A code and the words for it (need categories, outcome measures).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// One specialist service.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceDefinition {
    pub code: ServiceCode,
    pub name: String,
    pub kind: ServiceKind,
    /// Where its referrals may come from (`hub` for the hub's onward referrals).
    pub referral_sources: Vec<String>,
    pub attempt_rule: AttemptRule,
    pub need_categories: Vec<Choice>,
    /// Version of the outcome-measure list below (the one in force now), recorded with each closure.
    pub measures_version: String,
    /// The day the list below came into force, YYYY-MM-DD; left out, it has always been in force.
    #[serde(default)]
    pub measures_in_force_from: Option<NaiveDate>,
    pub outcome_measures: Vec<Choice>,
    /// The lists in force before it, each from its own day until the next one's: a closure is answered against
    /// the list in force on the day it happened, so a 2019 closure brought in from history uses 2019's list.
    #[serde(default)]
    pub earlier_measures: Vec<MeasureList>,
    /// Who the service is for; left out, everyone.
    #[serde(default)]
    pub eligibility: Eligibility,
}

/// One version of a service's outcome-measure list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureList {
    pub version: String,
    pub in_force_from: NaiveDate,
    pub measures: Vec<Choice>,
}

/// The outcome-measure list in force on a day: its version (recorded with the closure) and its measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasuresInForce<'a> {
    pub version: &'a str,
    pub measures: &'a [Choice],
}

/// Who a service takes: today an age rule, in the age bands a referral records (a young victims' service takes
/// `age_bands = ["under_18"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// The age bands on the day of referral the service takes; empty, any age (and an unknown age).
    #[serde(default)]
    pub age_bands: Vec<AgeBand>,
}

impl ServiceDefinition {
    /// The outcome-measure list in force on `day`; `None` before the earliest list the file holds.
    pub fn measures_on(&self, day: NaiveDate) -> Option<MeasuresInForce<'_>> {
        if self.measures_in_force_from.is_none_or(|from| from <= day) {
            return Some(MeasuresInForce { version: &self.measures_version, measures: &self.outcome_measures });
        }
        self.earlier_measures
            .iter()
            .filter(|list| list.in_force_from <= day)
            .max_by_key(|list| list.in_force_from)
            .map(|list| MeasuresInForce { version: &list.version, measures: &list.measures })
    }

    /// The words for an outcome measure of any version of the service's list (the newest wording first).
    pub fn measure_label(&self, code: &str) -> Option<&str> {
        let mut earlier: Vec<&MeasureList> = self.earlier_measures.iter().collect();
        earlier.sort_by_key(|list| std::cmp::Reverse(list.in_force_from));
        std::iter::once(self.outcome_measures.as_slice())
            .chain(earlier.into_iter().map(|list| list.measures.as_slice()))
            .flatten()
            .find(|choice| choice.code == code)
            .map(|choice| choice.label.as_str())
    }

    /// Why the service cannot take someone of `age_band` (on the day of referral), in plain words; `None` when it
    /// can.
    pub fn refuses(&self, age_band: Option<AgeBand>) -> Option<String> {
        let bands = &self.eligibility.age_bands;
        if bands.is_empty() {
            return None;
        }
        let takes: Vec<&str> = bands.iter().map(|band| band.label()).collect();
        let takes = takes.join(", ");
        match age_band {
            Some(band) if bands.contains(&band) => None,
            Some(band) => Some(format!(
                "{} takes victims aged {takes} on the day of referral; this victim was {}",
                self.name,
                band.label()
            )),
            None => Some(format!(
                "{} takes victims aged {takes} on the day of referral; record the victim's date of birth first",
                self.name
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    service: Vec<ServiceDefinition>,
}

/// Every specialist service, in the order of the file.
#[derive(Debug, Clone)]
pub struct Catalogue {
    services: Vec<ServiceDefinition>,
}

const SHIPPED: &str = include_str!("../../../config/services.toml");

impl Catalogue {
    /// The shipped catalogue (`config/services.toml`).
    pub fn shipped() -> Self {
        Self::parse(SHIPPED).expect("config/services.toml is valid (checked by a test)")
    }

    /// Reads a catalogue file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{} is not a valid services file", path.display()))
    }

    /// Parses and checks a catalogue: unique codes, none called `hub`, a non-empty outcome-measure list with unique
    /// codes, a sensible attempt rule.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: File = toml::from_str(text)?;
        let mut codes = BTreeSet::new();
        for service in &file.service {
            let code = service.code.as_str();
            anyhow::ensure!(code != "hub", "the service code hub is the Victim and Witness Hub's own");
            anyhow::ensure!(codes.insert(code), "the service code {code} is defined twice");
            anyhow::ensure!(!service.outcome_measures.is_empty(), "service {code} has no outcome measures");
            for (what, choices) in
                [("need category", &service.need_categories), ("outcome measure", &service.outcome_measures)]
            {
                let mut seen = BTreeSet::new();
                for choice in choices {
                    anyhow::ensure!(seen.insert(&choice.code), "service {code} lists the {what} {} twice", choice.code);
                }
            }
            check_measure_lists(service)?;
            let rule = service.attempt_rule;
            anyhow::ensure!(
                rule.attempts >= 1 && rule.distinct_bands <= 3 && rule.distinct_bands <= rule.attempts,
                "service {code} has an attempt rule that cannot be met ({} attempts in {} times of day)",
                rule.attempts,
                rule.distinct_bands
            );
        }
        Ok(Self { services: file.service })
    }

    pub fn all(&self) -> &[ServiceDefinition] {
        &self.services
    }

    pub fn get(&self, code: &str) -> Option<&ServiceDefinition> {
        self.services.iter().find(|s| s.code.as_str() == code)
    }

    pub fn codes(&self) -> Vec<ServiceCode> {
        self.services.iter().map(|s| s.code.clone()).collect()
    }
}

/// A service's measure lists: versions named once, each earlier list starting before the next and before the
/// current one (which then needs its own start), none empty, no measure twice in one list.
fn check_measure_lists(service: &ServiceDefinition) -> anyhow::Result<()> {
    let code = service.code.as_str();
    if service.earlier_measures.is_empty() {
        return Ok(());
    }
    let Some(current_from) = service.measures_in_force_from else {
        anyhow::bail!(
            "service {code} has earlier outcome-measure lists: give measures_in_force_from for the current one"
        );
    };
    let mut versions = BTreeSet::from([service.measures_version.as_str()]);
    let mut starts = BTreeSet::from([current_from]);
    for list in &service.earlier_measures {
        anyhow::ensure!(
            versions.insert(list.version.as_str()),
            "service {code} names the outcome-measure list {} twice",
            list.version
        );
        anyhow::ensure!(
            list.in_force_from < current_from && starts.insert(list.in_force_from),
            "service {code}'s outcome-measure list {} must start on a day of its own before the current list's",
            list.version
        );
        anyhow::ensure!(!list.measures.is_empty(), "service {code}'s outcome-measure list {} is empty", list.version);
        let mut seen = BTreeSet::new();
        for choice in &list.measures {
            anyhow::ensure!(
                seen.insert(&choice.code),
                "service {code}'s outcome-measure list {} lists {} twice",
                list.version,
                choice.code
            );
        }
    }
    Ok(())
}

impl Default for Catalogue {
    fn default() -> Self {
        Self::shipped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_has_the_four_services_and_four_configured_ones() {
        let catalogue = Catalogue::shipped();
        let codes: Vec<&str> = catalogue.all().iter().map(|s| s.code.as_str()).collect();
        assert_eq!(
            codes,
            ["idva", "isva", "stalking", "rj", "mental_health", "home_security", "young_victims", "migrant_victims"]
        );
        assert_eq!(catalogue.get("young_victims").unwrap().kind, ServiceKind::General);
        assert_eq!(catalogue.get("migrant_victims").unwrap().kind, ServiceKind::General);
        assert_eq!(catalogue.get("mental_health").unwrap().kind, ServiceKind::General);
        assert_eq!(
            catalogue.get("mental_health").unwrap().attempt_rule,
            AttemptRule { attempts: 2, distinct_bands: 2 }
        );
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_closure_is_answered_against_the_list_in_force_on_its_day() {
        let catalogue = Catalogue::shipped();
        let rj = catalogue.get("rj").unwrap();
        let now = rj.measures_on(day("2026-11-30")).unwrap();
        assert_eq!(now.version, "rj-2026-04");
        assert!(now.measures.iter().any(|m| m.code == "informed_empowered"), "RJ uses better informed and empowered");
        let then = rj.measures_on(day("2019-06-01")).unwrap();
        assert_eq!(then.version, "rj-2018-04");
        assert!(!then.measures.iter().any(|m| m.code == "closure"));
        assert_eq!(rj.measures_on(day("2026-03-31")).unwrap().version, "rj-2018-04");
        assert_eq!(rj.measures_on(day("2026-04-01")).unwrap().version, "rj-2026-04");
        assert_eq!(rj.measures_on(day("2018-03-31")), None, "no list was in force before the first");
        assert_eq!(rj.measure_label("closure"), Some("Feels the harm was acknowledged"));
        // A configured service with one list: it has always been in force.
        assert_eq!(
            catalogue.get("mental_health").unwrap().measures_on(day("2015-01-01")).unwrap().version,
            "mental_health-2026-04"
        );
    }

    #[test]
    fn a_young_victims_service_takes_under_18s_only() {
        let catalogue = Catalogue::shipped();
        let young = catalogue.get("young_victims").unwrap();
        assert_eq!(young.refuses(Some(AgeBand::Under18)), None);
        assert_eq!(
            young.refuses(Some(AgeBand::From25To34)).as_deref(),
            Some("Young victims' service takes victims aged under 18 on the day of referral; this victim was 25 to 34")
        );
        assert!(young.refuses(None).unwrap().contains("record the victim's date of birth"));
        assert_eq!(catalogue.get("idva").unwrap().refuses(None), None, "no age rule: anyone");
    }

    #[test]
    fn a_bad_catalogue_is_refused_with_the_reason() {
        let one = |extra: &str| {
            format!(
                "[[service]]\ncode = \"x\"\nname = \"X\"\nkind = \"general\"\nreferral_sources = []\n\
                 attempt_rule = {{ attempts = 3, distinct_bands = 3 }}\nneed_categories = []\nmeasures_version = \"1\"\n\
                 outcome_measures = [{{ code = \"cope\", label = \"Cope\" }}]\n{extra}"
            )
        };
        assert!(Catalogue::parse(&one("")).is_ok());
        let twice = format!("{}\n{}", one(""), one(""));
        assert!(Catalogue::parse(&twice).unwrap_err().to_string().contains("defined twice"));
        let hub = one("").replace("code = \"x\"", "code = \"hub\"");
        assert!(Catalogue::parse(&hub).unwrap_err().to_string().contains("hub"));
        let impossible = one("").replace("attempts = 3, distinct_bands = 3", "attempts = 1, distinct_bands = 3");
        assert!(Catalogue::parse(&impossible).unwrap_err().to_string().contains("cannot be met"));
        let bad_code = one("").replace("code = \"x\"", "code = \"X Y\"");
        assert!(Catalogue::parse(&bad_code).is_err());
        let earlier = "[[service.earlier_measures]]\nversion = \"0\"\nin_force_from = \"2019-04-01\"\n\
                       measures = [{ code = \"cope\", label = \"Cope\" }]\n";
        let undated = one(earlier);
        assert!(Catalogue::parse(&undated).unwrap_err().to_string().contains("give measures_in_force_from"));
        let dated = one(earlier)
            .replace("measures_version = \"1\"", "measures_version = \"1\"\nmeasures_in_force_from = \"2026-04-01\"");
        assert!(Catalogue::parse(&dated).is_ok());
        let after = dated.replace("2019-04-01", "2026-05-01");
        assert!(Catalogue::parse(&after).unwrap_err().to_string().contains("before the current list's"));
        let same_version = dated.replace("version = \"0\"", "version = \"1\"");
        assert!(Catalogue::parse(&same_version).unwrap_err().to_string().contains("twice"));
    }
}
