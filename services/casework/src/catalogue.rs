//! The service catalogue: which specialist services run, read from configuration (`config/services.toml` is the
//! shipped default, built in; `--services-file` reads another). A service of kind `general` gets the common
//! pathway, pages and figures with no code of its own.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context as _;
use casetrack_proto::ServiceCode;
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
    /// Version of the outcome-measure list below, recorded with each closure.
    pub measures_version: String,
    pub outcome_measures: Vec<Choice>,
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

impl Default for Catalogue {
    fn default() -> Self {
        Self::shipped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_has_the_four_services_and_two_configured_ones() {
        let catalogue = Catalogue::shipped();
        let codes: Vec<&str> = catalogue.all().iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["idva", "isva", "stalking", "rj", "mental_health", "home_security"]);
        assert_eq!(catalogue.get("mental_health").unwrap().kind, ServiceKind::General);
        assert_eq!(
            catalogue.get("mental_health").unwrap().attempt_rule,
            AttemptRule { attempts: 2, distinct_bands: 2 }
        );
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
    }
}
