//! The funder's return for a test quarter: the documented history example (`docs/history-import-example.csv`)
//! imported, its return for July to September 2019 (`casetrack report --format return`) checked cell by cell, both
//! ways, against the expected return worked out by hand (`tests/fixtures/return-FY2019-20-Q2.csv`: every other
//! field of the example's services is 0); prepared for publication, no count from 1 to 4 is shown; and the same
//! after a rebuild.

use std::collections::BTreeMap;
use std::process::Command;

use casetrack_eventstore::testkit::TempDir;

const QUARTER: &str = "FY2019-20 Q2";

fn casetrack(args: &[&str], data_dir: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run casetrack");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "casetrack {args:?}: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    stdout
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Every element `<tag ...>inner</tag>` of `xml`, as (attributes, inner).
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<(&'a str, &'a str)> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // `<c` must not match `<col`: the tag name ends at a space, `>` or `/`.
        if !after.starts_with([' ', '>', '/']) {
            rest = after;
            continue;
        }
        let head_end = after.find('>').unwrap();
        let attributes = &after[..head_end];
        if attributes.ends_with('/') {
            out.push((attributes, ""));
            rest = &after[head_end + 1..];
            continue;
        }
        let body = &after[head_end + 1..];
        let end = body.find(&close).unwrap();
        out.push((attributes, &body[..end]));
        rest = &body[end + close.len()..];
    }
    out
}

fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = attributes.find(&key)? + key.len();
    Some(&attributes[start..start + attributes[start..].find('"')?])
}

/// A workbook's cells as text, per sheet name: cell reference -> text (numbers as written).
fn cells(path: &std::path::Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let strings: Vec<String> = elements(&read("xl/sharedStrings.xml"), "si")
        .into_iter()
        .map(|(_, si)| elements(si, "t").into_iter().map(|(_, t)| unescape(t)).collect())
        .collect();
    let names: Vec<String> = elements(&read("xl/workbook.xml"), "sheet")
        .into_iter()
        .map(|(attributes, _)| unescape(attribute(attributes, "name").unwrap()))
        .collect();
    let mut book = BTreeMap::new();
    for (i, name) in names.into_iter().enumerate() {
        let xml = read(&format!("xl/worksheets/sheet{}.xml", i + 1));
        let mut sheet = BTreeMap::new();
        for (attributes, inner) in elements(&xml, "c") {
            let reference = attribute(attributes, "r").unwrap().to_owned();
            let Some((_, value)) = elements(inner, "v").into_iter().next() else { continue };
            let text = match attribute(attributes, "t") {
                Some("s") => strings[value.parse::<usize>().unwrap()].clone(),
                _ => unescape(value),
            };
            sheet.insert(reference, text);
        }
        book.insert(name, sheet);
    }
    book
}

fn the_return(data: &std::path::Path, publish: bool) -> BTreeMap<String, BTreeMap<String, String>> {
    let path = data.join(if publish { "published.xlsx" } else { "return.xlsx" });
    let mut args = vec!["report", "--period", QUARTER, "--format", "return", "--output", path.to_str().unwrap()];
    if publish {
        args.push("--publish");
    }
    casetrack(&args, data);
    cells(&path)
}

#[test]
fn the_return_for_a_quarter_is_the_one_worked_out_by_hand() {
    let data = TempDir::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/history-import-example.csv");
    casetrack(&["import", "history", example.to_str().unwrap()], data.path());
    let book = the_return(data.path(), false);

    let mut expected: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let fixture = include_str!("fixtures/return-FY2019-20-Q2.csv");
    let mut reader = csv::Reader::from_reader(fixture.as_bytes());
    for record in reader.records() {
        let record = record.unwrap();
        expected.entry(record[0].to_owned()).or_default().insert(record[1].to_owned(), record[2].to_owned());
    }
    let sheets: Vec<&String> = book.keys().collect();
    assert_eq!(
        sheets,
        ["IDVA high-risk domestic abuse", "ISVA sexual violence", "Notes", "Victim and Witness Hub"],
        "a sheet per service with figures in the quarter (named without the colon a sheet name cannot hold), and \
         the notes"
    );
    for (service, cells) in &expected {
        let sheet = service.replace(':', "");
        let actual = &book[&sheet];
        for (cell, value) in cells {
            assert_eq!(actual.get(cell), Some(value), "{sheet}!{cell}");
        }
        for (cell, value) in actual {
            assert_eq!(cells.get(cell), Some(value), "{sheet}!{cell} is not in the expected return");
        }
    }
    let notes: Vec<&String> = book["Notes"].values().collect();
    assert!(notes.iter().any(|n| n.contains("Ministry of Justice")), "{notes:?}");

    // Prepared for publication: no count from 1 to 4 anywhere, and each hidden one marked.
    let published = the_return(data.path(), true);
    for (sheet, cells) in published.iter().filter(|(name, _)| *name != "Notes") {
        for (cell, value) in cells.iter().filter(|(cell, _)| cell.starts_with('C') && *cell != "C5") {
            assert!(!matches!(value.as_str(), "1" | "2" | "3" | "4"), "{sheet}!{cell} = {value}");
        }
        assert_eq!(cells.get("C6").map(String::as_str), Some(if sheet.starts_with("IDVA") { "0" } else { "<5" }));
    }

    // The same after a rebuild.
    let csv_before = casetrack(&["report", "--period", QUARTER, "--format", "return-csv"], data.path());
    casetrack(&["rebuild"], data.path());
    assert_eq!(casetrack(&["report", "--period", QUARTER, "--format", "return-csv"], data.path()), csv_before);
    assert_eq!(the_return(data.path(), false), book);
}
