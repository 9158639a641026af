//! The figures dashboard for commissioners (who never see a person), hub managers and service managers: the funnel,
//! where the referrals are now, monthly trends, service comparison, time to first contact and outcome shares, as
//! charts drawn on the server as SVG (readable without JavaScript), each with its numbers in a table beside it;
//! period, service and breakdown pickers; and a CSV or workbook download of what is on screen. A commissioner sees
//! the published figures: small numbers, and what would give one away, hidden.
//!
//! By concern: `common` (the routes' state and what every page reads its request and report by), `figures` (the
//! page), `sections` and `charts` (what it draws per service), `downloads` (CSV and workbook), `drill_down` (the
//! referrals behind a figure, for staff). Their queries are in `crate::views`.

mod charts;
mod common;
mod downloads;
mod drill_down;
mod figures;
mod sections;

use axum::routing::get;
use casetrack_web::access::{Permission, Routes};

pub use common::FiguresState;
pub use drill_down::{DrillDown, drill_down};
pub use figures::figures_page;

pub fn routes(state: FiguresState) -> Routes {
    Routes::new()
        .route("/figures", Permission::Figures, get(figures_page))
        .route("/figures/export.csv", Permission::Figures, get(downloads::export_csv))
        .route("/figures/export-long.csv", Permission::Figures, get(downloads::export_csv_long))
        .route("/figures/export.xlsx", Permission::Figures, get(downloads::export_xlsx))
        .route("/figures/return.xlsx", Permission::Figures, get(downloads::return_xlsx))
        .person("/figures/referrals", Permission::Casework, get(drill_down))
        .with_state(state)
}
