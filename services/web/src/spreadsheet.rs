//! Cells of the CSV files and workbooks Casetrack writes, made safe to open in a spreadsheet.
//!
//! A spreadsheet reads a text cell beginning with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a
//! formula: a break-glass reason typed as `=HYPERLINK("https://evil.example", "click")` would become a live link
//! in the auditor's export. Every text cell of every CSV and workbook goes through [`text`], so the rule lives in
//! one place; numbers are written as numbers and need none of it.

use std::borrow::Cow;

/// `value` as a text cell that no spreadsheet reads as a formula: one beginning with a formula character is given
/// a leading apostrophe (what spreadsheets themselves use to mark "this is text"), everything else is unchanged.
pub fn text(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A row of text cells, each made safe by [`text`], ready for `csv::Writer::write_record`.
pub fn row<'a>(cells: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    cells.into_iter().map(|cell| text(cell).into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn formulas_become_text_and_everything_else_is_left_alone() {
        assert_eq!(
            text("=HYPERLINK(\"https://evil.example\",\"open\")"),
            "'=HYPERLINK(\"https://evil.example\",\"open\")"
        );
        for formula in ["+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(text(formula).starts_with('\''), "{formula:?}");
        }
        for plain in ["", "Jo Smith", "needs review", "HUB-2026-00123", "2026-12-04", "a=b"] {
            assert_eq!(text(plain), plain);
        }
    }
}
