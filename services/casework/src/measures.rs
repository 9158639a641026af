//! Closure with outcome measures: the answers a victim gives at closure name measures of the list in force (the
//! hub's versioned list, or a service's own). One rule, for live closures and history brought in alike.

/// Checks that every answered measure is one of `known`, the list called `list` in the refusal ("list 2026-04",
/// "IDVA: high-risk domestic abuse"). The refusal names the first unknown measure and the ones to use.
pub fn check_answers<'a>(
    known: &[&str],
    list: &str,
    answered: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    match answered.into_iter().find(|measure| !known.contains(measure)) {
        None => Ok(()),
        Some(measure) => {
            Err(format!("{measure:?} is not an outcome measure of {list}; use one of {}", known.join(", ")))
        }
    }
}

/// The outcome-measure list of `service` in force on `day`, checked against the answers given: its version (recorded
/// with the closure), or the refusal in plain words.
pub fn in_force_for<'a, 'b>(
    service: &'a crate::catalogue::ServiceDefinition,
    day: chrono::NaiveDate,
    answered: impl IntoIterator<Item = &'b str>,
) -> Result<&'a str, String> {
    let Some(list) = service.measures_on(day) else {
        return Err(format!(
            "no outcome-measure list of {} was in force on {}: add the list used then to the services file",
            service.name,
            day.format("%-d %B %Y")
        ));
    };
    let known: Vec<&str> = list.measures.iter().map(|m| m.code.as_str()).collect();
    check_answers(&known, &format!("{} in force on {}", service.name, day.format("%-d %B %Y")), answered)?;
    Ok(list.version)
}

#[cfg(test)]
mod tests {
    use super::check_answers;

    #[test]
    fn every_answer_names_a_measure_of_the_list() {
        let known = ["cope", "safer"];
        assert_eq!(check_answers(&known, "list 2026-04", ["cope", "safer"]), Ok(()));
        assert_eq!(
            check_answers(&known, "list 2026-04", ["cope", "happier"]),
            Err("\"happier\" is not an outcome measure of list 2026-04; use one of cope, safer".into())
        );
    }
}
