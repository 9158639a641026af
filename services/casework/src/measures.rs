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
