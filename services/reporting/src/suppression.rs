//! Small-number suppression for what commissioners see and what is published: a count from 1 to `threshold - 1`
//! is hidden (shown as "<5" with the default threshold), and enough other entries are hidden with it that no
//! hidden count can be worked out from the rest of the table.
//!
//! A table is cells in rows and columns with their row totals, column totals and grand total: read as equations,
//! each row of cells sums to its total, each column to its total, and the totals to the grand total. Hiding a small
//! count alone gives it away (total minus the rest), so other entries are hidden too (secondary suppression).
//! Rules of thumb ("at least two hidden in every line") are not enough: an adversary also knows that a small count
//! is from 1 to 4 and that nothing is negative, and the bounds can pin a value (two hidden 1s summing to 2; a 4
//! and a 1 on the corners of a hidden square whose other corners are 5 and 7). So each candidate publication is
//! audited: for every small count, a linear programme finds the least and the greatest value it could have given
//! everything shown; while one is pinned (least = greatest), another entry of its row or column is hidden and the
//! audit runs again. (Row and column sums make the constraint matrix totally unimodular, so the programme's
//! bounds are whole numbers and the integer bounds an adversary could find.)
//!
//! Secondary entries are chosen among the visible counts that are not zero (hiding a zero protects nothing: an
//! adversary would still know the rest), smallest first, and a line's total only when it has no such cell. Zeros are
//! shown: nobody is in them. Secondary entries are marked apart from small ones, so a reader never takes a hidden 37
//! for "fewer than five".

/// One published value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Count(u64),
    /// A count from 1 to threshold - 1.
    Small,
    /// Hidden so that a small count cannot be worked out.
    Hidden,
}

impl Shown {
    /// As printed: the number, "<5" (for the threshold in force) or "[c]" (confidential, the usual mark).
    pub fn text(self, threshold: u64) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Small => format!("<{threshold}"),
            Self::Hidden => "[c]".into(),
        }
    }
}

/// A table as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub cells: Vec<Vec<Shown>>,
    pub row_totals: Vec<Shown>,
    pub column_totals: Vec<Shown>,
    pub total: Shown,
}

/// Suppresses `cells` (rows of equal length) for publication with their totals.
pub fn suppress(cells: &[Vec<u64>], threshold: u64) -> Published {
    let grid = Grid::new(cells);
    let small = |n: u64| n > 0 && n < threshold;
    let mut shown: Vec<Vec<Shown>> = grid
        .value
        .iter()
        .map(|row| row.iter().map(|&n| if small(n) { Shown::Small } else { Shown::Count(n) }).collect())
        .collect();
    // Hide a partner for each small count until none can be worked out.
    while let Some((r, c)) = grid.pinned(&shown, threshold) {
        let Some((pr, pc)) = grid.partner(&shown, r, c) else { break };
        shown[pr][pc] = Shown::Hidden;
    }
    let (rows, columns) = (grid.rows, grid.columns);
    Published {
        cells: shown[..rows].iter().map(|row| row[..columns].to_vec()).collect(),
        row_totals: shown[..rows].iter().map(|row| row[columns]).collect(),
        column_totals: shown[rows][..columns].to_vec(),
        total: shown[rows][columns],
    }
}

/// The augmented grid: the cells, a totals column on the right, a totals row below, the grand total in the corner.
struct Grid {
    rows: usize,
    columns: usize,
    value: Vec<Vec<u64>>,
}

impl Grid {
    fn new(cells: &[Vec<u64>]) -> Self {
        let rows = cells.len();
        let columns = cells.first().map_or(0, Vec::len);
        assert!(cells.iter().all(|row| row.len() == columns), "every row has the same columns");
        let mut value = vec![vec![0u64; columns + 1]; rows + 1];
        for (r, row) in cells.iter().enumerate() {
            for (c, &n) in row.iter().enumerate() {
                value[r][c] = n;
                value[r][columns] += n;
                value[rows][c] += n;
                value[rows][columns] += n;
            }
        }
        Self { rows, columns, value }
    }

    /// The lines of the grid as equations: each row's cells sum to its total, each column's to its total.
    fn lines(&self) -> Vec<Vec<(usize, usize)>> {
        (0..=self.rows)
            .map(|r| (0..=self.columns).map(|c| (r, c)).collect())
            .chain((0..=self.columns).map(|c| (0..=self.rows).map(|r| (r, c)).collect()))
            .collect()
    }

    /// A small count whose value the shown entries pin down, if there is one.
    fn pinned(&self, shown: &[Vec<Shown>], threshold: u64) -> Option<(usize, usize)> {
        use microlp::{ComparisonOp, OptimizationDirection, Problem};
        let hidden: Vec<(usize, usize)> = (0..=self.rows)
            .flat_map(|r| (0..=self.columns).map(move |c| (r, c)))
            .filter(|&(r, c)| !matches!(shown[r][c], Shown::Count(_)))
            .collect();
        let bound = |at: (usize, usize)| match shown[at.0][at.1] {
            Shown::Small => (1.0, (threshold - 1) as f64),
            _ => (0.0, f64::INFINITY),
        };
        let range = |target: (usize, usize), direction| {
            let mut problem = Problem::new(direction);
            let vars: Vec<_> =
                hidden.iter().map(|&at| problem.add_var(if at == target { 1.0 } else { 0.0 }, bound(at))).collect();
            for line in self.lines() {
                // cells - total = 0, with what is shown moved to the right-hand side.
                let (total, cells) = line.split_last().expect("a line has a total");
                let mut terms = Vec::new();
                let mut rhs = 0.0;
                for (at, sign) in cells.iter().map(|at| (at, 1.0)).chain([(total, -1.0)]) {
                    match hidden.iter().position(|h| h == at) {
                        Some(i) => terms.push((vars[i], sign)),
                        None => rhs -= sign * self.value[at.0][at.1] as f64,
                    }
                }
                if !terms.is_empty() {
                    problem.add_constraint(terms.as_slice(), ComparisonOp::Eq, rhs);
                }
            }
            problem.solve().ok().map(|solution| solution.objective())
        };
        hidden.iter().copied().filter(|&(r, c)| shown[r][c] == Shown::Small).find(|&target| {
            match (range(target, OptimizationDirection::Minimize), range(target, OptimizationDirection::Maximize)) {
                (Some(least), Some(greatest)) => greatest - least < 0.5,
                // Unbounded above: not pinned. (Infeasible cannot happen: the true values satisfy everything.)
                _ => false,
            }
        })
    }

    /// Another entry to hide beside a pinned small count: the smallest visible count above zero in whichever of its
    /// row and column has fewer entries hidden, else in the other, else anywhere; else a visible total.
    fn partner(&self, shown: &[Vec<Shown>], r: usize, c: usize) -> Option<(usize, usize)> {
        let visible = |&(r, c): &(usize, usize)| shown[r][c] == Shown::Count(self.value[r][c]);
        let in_cells = |&(r, c): &(usize, usize)| r < self.rows && c < self.columns;
        let hidden_in = |line: &[(usize, usize)]| line.iter().filter(|at| !visible(at)).count();
        let smallest = |line: &[(usize, usize)]| {
            line.iter()
                .copied()
                .filter(|at| in_cells(at) && visible(at) && self.value[at.0][at.1] > 0)
                .min_by_key(|&(r, c)| (self.value[r][c], r, c))
        };
        let row: Vec<_> = (0..=self.columns).map(|cc| (r, cc)).collect();
        let column: Vec<_> = (0..=self.rows).map(|rr| (rr, c)).collect();
        let (first, second) = if hidden_in(&row) <= hidden_in(&column) { (row, column) } else { (column, row) };
        let everywhere: Vec<_> = self.lines().concat();
        let totals = (0..=self.rows).map(|rr| (rr, self.columns)).chain((0..self.columns).map(|cc| (self.rows, cc)));
        smallest(&first)
            .or_else(|| smallest(&second))
            .or_else(|| smallest(&everywhere))
            .or_else(|| totals.filter(visible).min_by_key(|&(r, c)| (self.value[r][c] == 0, self.value[r][c])))
    }
}

/// A line of counts with their total beside it (a breakdown, or states that add up to the referrals received):
/// the cells and the total as published. It is a one-row table, so its column totals are its cells: a cell is shown
/// as the more hidden of the two.
pub fn suppress_line(cells: &[u64], threshold: u64) -> (Vec<Shown>, Shown) {
    if cells.is_empty() {
        return (Vec::new(), Shown::Count(0));
    }
    let published = suppress(&[cells.to_vec()], threshold);
    let worst = |a: Shown, b: Shown| match (a, b) {
        (Shown::Small, _) | (_, Shown::Small) => Shown::Small,
        (Shown::Hidden, _) | (_, Shown::Hidden) => Shown::Hidden,
        (count, _) => count,
    };
    let line = published.cells[0].iter().zip(&published.column_totals).map(|(&a, &b)| worst(a, b)).collect();
    (line, worst(published.row_totals[0], published.total))
}

/// A part and the whole it is part of (improved of those asked, on time of those attempted): the part is hidden
/// when the rest (whole minus part) is small, since it would give that away.
pub fn part_of(part: u64, whole: u64, threshold: u64) -> (Shown, Shown) {
    let rest = whole.saturating_sub(part);
    let shown_part = match one(part, threshold) {
        Shown::Count(_) if one(rest, threshold) == Shown::Small => Shown::Hidden,
        shown => shown,
    };
    (shown_part, one(whole, threshold))
}

/// A single count shown on its own (no totals beside it): small counts hidden.
pub fn one(count: u64, threshold: u64) -> Shown {
    if count > 0 && count < threshold { Shown::Small } else { Shown::Count(count) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 5;

    /// What an adversary can work out: every assignment of the hidden cells consistent with what is shown (a
    /// small one from 1 to 4, any hidden one from 0 to the smallest total shown beside it; the totals they make
    /// equal to the ones shown, or small where small is shown). Returns the hidden entries (cells and totals)
    /// whose value is the same in every consistent assignment.
    fn disclosed(cells: &[Vec<u64>], published: &Published) -> Vec<(usize, usize)> {
        let rows = cells.len();
        let columns = cells[0].len();
        let grand: u64 = cells.iter().flatten().sum();
        let count = |s: Shown| if let Shown::Count(n) = s { Some(n) } else { None };
        let unknowns: Vec<(usize, usize)> = (0..rows)
            .flat_map(|r| (0..columns).map(move |c| (r, c)))
            .filter(|&(r, c)| count(published.cells[r][c]).is_none())
            .collect();
        let ranges: Vec<(u64, u64)> = unknowns
            .iter()
            .map(|&(r, c)| match published.cells[r][c] {
                Shown::Small => (1, T - 1),
                _ => {
                    let bound = [published.row_totals[r], published.column_totals[c], published.total]
                        .into_iter()
                        .filter_map(count)
                        .min()
                        .unwrap_or(grand + T);
                    (0, bound)
                }
            })
            .collect();
        let matches = |shown: Shown, value: u64| match shown {
            Shown::Count(n) => n == value,
            Shown::Small => (1..T).contains(&value),
            Shown::Hidden => true,
        };
        // The totals that are hidden are unknowns too: their values, per assignment.
        let mut seen: std::collections::BTreeMap<(usize, usize), std::collections::BTreeSet<u64>> = Default::default();
        let mut assignment: Vec<u64> = ranges.iter().map(|r| r.0).collect();
        loop {
            let mut v: Vec<Vec<u64>> = cells.to_vec();
            for (i, &(r, c)) in unknowns.iter().enumerate() {
                v[r][c] = assignment[i];
            }
            let row_totals: Vec<u64> = v.iter().map(|row| row.iter().sum()).collect();
            let column_totals: Vec<u64> = (0..columns).map(|c| v.iter().map(|row| row[c]).sum()).collect();
            let total: u64 = row_totals.iter().sum();
            let consistent = (0..rows).all(|r| matches(published.row_totals[r], row_totals[r]))
                && (0..columns).all(|c| matches(published.column_totals[c], column_totals[c]))
                && matches(published.total, total);
            if consistent {
                for (i, &(r, c)) in unknowns.iter().enumerate() {
                    seen.entry((r, c)).or_default().insert(assignment[i]);
                }
                for r in (0..rows).filter(|&r| count(published.row_totals[r]).is_none()) {
                    seen.entry((r, columns)).or_default().insert(row_totals[r]);
                }
                for c in (0..columns).filter(|&c| count(published.column_totals[c]).is_none()) {
                    seen.entry((rows, c)).or_default().insert(column_totals[c]);
                }
            }
            // Next assignment (odometer).
            let mut i = 0;
            loop {
                if i == assignment.len() {
                    return seen.into_iter().filter(|(_, values)| values.len() == 1).map(|(at, _)| at).collect();
                }
                if assignment[i] < ranges[i].1 {
                    assignment[i] += 1;
                    break;
                }
                assignment[i] = ranges[i].0;
                i += 1;
            }
        }
    }

    fn assert_safe(cells: &[Vec<u64>]) -> Published {
        let published = suppress(cells, T);
        // Every small count is hidden, and nothing shown is wrong.
        for (r, row) in cells.iter().enumerate() {
            for (c, &n) in row.iter().enumerate() {
                match published.cells[r][c] {
                    Shown::Count(shown) => assert!(shown == n && !(1..T).contains(&n), "{cells:?}"),
                    Shown::Small => assert!((1..T).contains(&n)),
                    Shown::Hidden => {}
                }
            }
        }
        // No small count can be worked out. (A hidden large count that can be is only over-caution.)
        let grid: Vec<Vec<Shown>> = published
            .cells
            .iter()
            .zip(&published.row_totals)
            .map(|(row, total)| row.iter().copied().chain([*total]).collect())
            .chain([published.column_totals.iter().copied().chain([published.total]).collect()])
            .collect();
        let disclosed: Vec<_> =
            disclosed(cells, &published).into_iter().filter(|&(r, c)| grid[r][c] == Shown::Small).collect();
        assert!(disclosed.is_empty(), "{cells:?} published as {published:?} gives away {disclosed:?}");
        published
    }

    #[test]
    fn nothing_small_nothing_hidden() {
        let published = assert_safe(&[vec![10, 20], vec![30, 0]]);
        assert_eq!(
            published.cells,
            vec![vec![Shown::Count(10), Shown::Count(20)], vec![Shown::Count(30), Shown::Count(0)]]
        );
        assert_eq!(published.total, Shown::Count(60));
        assert_eq!([Shown::Count(60).text(T), Shown::Small.text(T), Shown::Hidden.text(T)], ["60", "<5", "[c]"]);
        assert_eq!([one(0, T), one(3, T), one(5, T)], [Shown::Count(0), Shown::Small, Shown::Count(5)]);
    }

    #[test]
    fn one_small_cell_takes_partners_in_its_row_and_its_column() {
        let published = assert_safe(&[vec![3, 20, 40], vec![15, 25, 50]]);
        assert_eq!(published.cells[0][0], Shown::Small);
        assert_eq!(published.cells[0][1], Shown::Hidden, "the smallest other cell of the row");
        assert_eq!(published.cells[1][0], Shown::Hidden, "the smallest other cell of the column");
        assert_eq!(published.cells[1][2], Shown::Count(50), "no more than needed");
    }

    #[test]
    fn two_ones_in_a_row_are_not_given_away_by_their_sum() {
        // Row total 2 with two cells each from 1 to 4 would say both are 1.
        assert_safe(&[vec![1, 1, 30], vec![10, 12, 14]]);
    }

    #[test]
    fn a_one_cell_row_hides_its_total() {
        let published = assert_safe(&[vec![2], vec![40]]);
        assert_eq!(published.cells[0][0], Shown::Small);
        assert_eq!(published.row_totals[0], Shown::Small, "the row total of a one-cell row is the cell");
    }

    #[test]
    fn a_line_and_its_total_give_nothing_away() {
        for line in [vec![1, 9], vec![3, 0, 0], vec![2, 2, 30], vec![4, 1, 6, 8], vec![0, 7, 9], vec![1]] {
            let (cells, total) = suppress_line(&line, T);
            // The same line as a table whose column totals are its cells, as an adversary reads it.
            let published =
                Published { cells: vec![cells.clone()], row_totals: vec![total], column_totals: cells.clone(), total };
            let disclosed: Vec<_> = disclosed(std::slice::from_ref(&line), &published)
                .into_iter()
                .filter(|&(r, c)| r == 0 && c < line.len() && cells[c] == Shown::Small)
                .collect();
            assert!(disclosed.is_empty(), "{line:?} published as {cells:?} {total:?} gives away {disclosed:?}");
            for (&shown, &n) in cells.iter().zip(&line) {
                match shown {
                    Shown::Count(c) => assert!(c == n && !(1..T).contains(&n), "{line:?}"),
                    Shown::Small => assert!((1..T).contains(&n), "{line:?}"),
                    Shown::Hidden => {}
                }
            }
        }
        assert_eq!(part_of(8, 10, T), (Shown::Hidden, Shown::Count(10)), "10 asked, 8 improved: 2 did not");
        assert_eq!(part_of(3, 10, T), (Shown::Small, Shown::Count(10)));
        assert_eq!(part_of(10, 10, T), (Shown::Count(10), Shown::Count(10)));
        assert_eq!(part_of(5, 12, T), (Shown::Count(5), Shown::Count(12)));
    }

    #[test]
    fn adversarial_tables() {
        for cells in [
            vec![vec![1, 0], vec![0, 9]],
            vec![vec![4, 4], vec![4, 4]],
            vec![vec![0, 0, 1], vec![0, 0, 0]],
            vec![vec![1, 2, 3], vec![4, 5, 6]],
            vec![vec![9, 1], vec![1, 9]],
            vec![vec![2, 0, 0], vec![0, 2, 0], vec![0, 0, 2]],
            vec![vec![5, 5], vec![5, 1]],
            vec![vec![12, 0, 3], vec![0, 0, 0], vec![7, 1, 6]],
        ] {
            assert_safe(&cells);
        }
    }

    #[test]
    fn random_small_tables() {
        // A fixed pseudo-random walk (no dependency on a generator crate), so any failure repeats.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for _ in 0..80 {
            let rows = 1 + next(2) as usize;
            let columns = 1 + next(3) as usize;
            let cells: Vec<Vec<u64>> = (0..rows)
                .map(|_| (0..columns).map(|_| if next(2) == 0 { next(5) } else { next(8) }).collect())
                .collect();
            assert_safe(&cells);
        }
    }
}
