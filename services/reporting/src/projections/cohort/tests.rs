//! The fold's given/when/then tests.

use super::fold::Fold;
use super::keys::{Sibling, Unit};
use super::names::{DIMENSIONS, financial_year, state};

fn unit(id: &str, day: &str) -> Unit {
    Unit {
        id: id.into(),
        service: "hub".into(),
        person_id: "p".into(),
        received_day: day.into(),
        received_at: format!("{day}T10:00:00.000000Z"),
        values: vec!["x".into(); DIMENSIONS.len()],
        stages: Vec::new(),
        state: state::OPEN.into(),
        clock_start: None,
        origin: None,
        stored: false,
        changed: true,
        counts: Vec::new(),
    }
}

#[test]
fn what_became_of_an_onward_referral_counts_once_on_the_referral() {
    let mut fold = Fold::default();
    fold.receive(unit("r", "2026-05-01"));
    let mut case = unit("c", "2026-05-03");
    (case.service, case.origin) = ("idva".into(), Some("r".into()));
    fold.receive(case);
    let mut direct = unit("d", "2026-05-03");
    (direct.service, direct.origin) = ("idva".into(), None);
    fold.receive(direct);
    let mut orphan = unit("o", "2026-05-03");
    (orphan.service, orphan.origin) = ("idva".into(), Some("never-received".into()));
    fold.receive(orphan);
    for (case, milestone) in [("c", "accepted"), ("c", "accepted"), ("c", "closed"), ("d", "closed"), ("o", "closed")] {
        fold.onward(case, milestone);
    }
    let of = |id: &str, figure: &str| {
        let figure = fold.names.numbers.get(figure)?;
        fold.units.get(id)?.counts.iter().find(|(f, _)| f == figure).map(|(_, count)| *count)
    };
    assert_eq!(of("r", "onward_outcome.idva.accepted"), Some(1), "once, however often");
    assert_eq!(of("r", "onward_outcome.idva.closed"), Some(1));
    assert_eq!(of("c", "onward_outcome.idva.closed"), None, "counted on the referral, not the case");
    let figures = fold.units.values().flat_map(|unit| unit.counts.iter().map(|(figure, _)| figure));
    let onward = figures.filter(|figure| fold.names.name(**figure).starts_with("onward_outcome.")).count();
    assert_eq!(onward, 2, "a direct case, and one whose referral was never received here, count nowhere");
}

fn sibling(unit: &Unit) -> Sibling {
    Sibling {
        id: unit.id.clone(),
        received_at: unit.received_at.clone(),
        received_day: unit.received_day.clone(),
        values: unit.values.clone(),
    }
}

/// The ties of dimension `all` by day, without zeros.
fn ties(fold: &Fold) -> Vec<(String, String, i64)> {
    fold.stored_ties()
        .iter()
        .filter(|((_, dimension, ..), n)| dimension == "all" && **n != 0)
        .map(|((_, _, _, prev, day), n)| (prev.clone(), day.clone(), *n))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn a_unit_received_out_of_order_takes_its_place_in_the_chain() {
    let mut fold = Fold::default();
    let (a, c, b) = (unit("a", "2026-05-10"), unit("c", "2026-05-30"), unit("b", "2026-05-20"));
    fold.receive(a.clone());
    fold.link("a", &[]);
    fold.receive(c.clone());
    fold.link("c", &[sibling(&a)]);
    assert_eq!(ties(&fold), [("2026-05-10".to_owned(), "2026-05-30".to_owned(), 1)]);
    fold.receive(b);
    fold.link("b", &[sibling(&a), sibling(&c)]);
    // a - b - c: two ties, so the period holding all three counts one victim.
    assert_eq!(
        ties(&fold),
        [("2026-05-10".to_owned(), "2026-05-20".to_owned(), 1), ("2026-05-20".to_owned(), "2026-05-30".to_owned(), 1)]
    );
    let stored = fold.stored_ties();
    let monthly: i64 = stored.iter().filter(|((_, d, ..), _)| d == "month:all").map(|(_, n)| n).sum();
    assert_eq!(monthly, 2, "the same ties by month");
    let yearly: Vec<_> =
        stored.iter().filter(|((_, d, ..), n)| d == "fy:all" && **n != 0).map(|((.., p, d), n)| (p, d, n)).collect();
    assert_eq!(yearly, [(&"2026".to_owned(), &"2026".to_owned(), &2)], "and by financial year");
}

#[test]
fn a_financial_year_runs_april_to_march() {
    assert_eq!(financial_year("2026-03-31"), "2025");
    assert_eq!(financial_year("2026-04-01"), "2026");
    assert_eq!(financial_year("2026-12-31"), "2026");
    assert_eq!(financial_year("2000-01-15"), "1999");
}
