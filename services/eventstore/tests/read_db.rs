//! `db::write_rows` against the real backends: every kind of value a read model holds comes back as it was
//! written, whichever way the rows travelled (delimited text or JSON), and each kind of conflict does what it says.
//! And how a PostgreSQL database not in the `C` locale is told apart.

use casetrack_eventstore::db::{Cell, OnConflict, ReadDb, compares_bytes, write_rows};
use casetrack_eventstore::testkit::{TempDir, fresh_postgres, fresh_postgres_url_in, fresh_sqlite, grows_past};
use sqlx::Row as _;

const COLUMNS: [&str; 4] = ["id", "label", "note", "count"];

async fn create_table(db: &ReadDb) {
    sqlx::query("CREATE TABLE rows_test (id TEXT PRIMARY KEY, label TEXT NOT NULL, note TEXT, count BIGINT)")
        .execute(db.pool())
        .await
        .expect("create the table");
    sqlx::query("CREATE TABLE ids_test (id TEXT PRIMARY KEY)").execute(db.pool()).await.expect("create the table");
}

type Stored = (String, String, Option<String>, Option<i64>);

async fn stored(db: &ReadDb) -> Vec<Stored> {
    sqlx::query("SELECT id, label, note, count FROM rows_test ORDER BY id")
        .fetch_all(db.pool())
        .await
        .expect("read the rows")
        .iter()
        .map(|row| (row.get("id"), row.get("label"), row.get("note"), row.get("count")))
        .collect()
}

fn row(id: &str, label: &str, note: Option<&str>, count: Option<i64>) -> Vec<Cell> {
    vec![id.into(), label.into(), note.map(str::to_owned).into(), count.into()]
}

async fn write(db: &ReadDb, on_conflict: OnConflict<'_>, rows: &[Vec<Cell>]) {
    let mut tx = db.begin().await.expect("begin");
    write_rows(&mut tx, "rows_test", &COLUMNS, on_conflict, rows).await.expect("write the rows");
    tx.commit().await.expect("commit");
}

/// Values that could be mistaken for the delimited text's own marks, or lost on the way: empty and missing text,
/// the delimiters themselves, quotes, backslashes, line ends, text beyond ASCII, numbers at their limits.
fn awkward_rows() -> Vec<Vec<Cell>> {
    vec![
        row("a", "", None, None),
        row("b", "plain", Some(""), Some(0)),
        row("c", "quote ' and \" and \\ and \\x1e", Some("line\nend\r\ttab"), Some(i64::MIN)),
        row("d", "Siân Ó Dónaill, 李雷, emoji 🙂", Some("NULL"), Some(i64::MAX)),
        row("e", "\u{1}", Some("a cell that is the missing-value mark"), Some(-1)),
        row("f", "cell\u{1f}separator", Some("row\u{1e}separator"), Some(42)),
        row("g", "{\"looks\": [\"like\", \"json\"]}", Some("{1,2}"), Some(7)),
    ]
}

fn expected(rows: &[Vec<Cell>]) -> Vec<Stored> {
    let mut expected: Vec<Stored> = rows
        .iter()
        .map(|row| match row.as_slice() {
            [Cell::Text(Some(id)), Cell::Text(Some(label)), Cell::Text(note), Cell::Int(count)] => {
                (id.clone(), label.clone(), note.clone(), *count)
            }
            _ => unreachable!("rows are made by `row`"),
        })
        .collect();
    expected.sort();
    expected
}

async fn every_value_comes_back_as_written(db: ReadDb) {
    create_table(&db).await;
    // The awkward rows in one write (one of them sends the whole chunk as JSON), then the ones that go as delimited
    // text in a write of their own.
    let rows = awkward_rows();
    write(&db, OnConflict::Ignore(&["id"]), &rows).await;
    assert_eq!(stored(&db).await, expected(&rows));
    sqlx::query("DELETE FROM rows_test").execute(db.pool()).await.expect("empty the table");
    let plain: Vec<Vec<Cell>> =
        rows.into_iter().filter(|row| !matches!(&row[0], Cell::Text(Some(id)) if id == "e" || id == "f")).collect();
    write(&db, OnConflict::Ignore(&["id"]), &plain).await;
    assert_eq!(stored(&db).await, expected(&plain));

    // A table of one column whose only value is empty text: a row that delimited text cannot carry.
    let mut tx = db.begin().await.expect("begin");
    let ids = vec![vec![Cell::from("")], vec![Cell::from("x")]];
    write_rows(&mut tx, "ids_test", &["id"], OnConflict::Ignore(&["id"]), &ids).await.expect("write the ids");
    tx.commit().await.expect("commit");
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM ids_test ORDER BY id").fetch_all(db.pool()).await.expect("read the ids");
    assert_eq!(ids, ["", "x"]);
}

async fn many_rows_and_each_kind_of_conflict(db: ReadDb) {
    create_table(&db).await;
    // More rows than one statement sends, so the write takes several.
    let many: Vec<Vec<Cell>> =
        (0..12_345).map(|n| row(&format!("{n:05}"), &format!("label {n}"), None, Some(n))).collect();
    write(&db, OnConflict::Ignore(&["id"]), &many).await;
    let rows = stored(&db).await;
    assert_eq!(rows.len(), 12_345);
    assert_eq!(rows[12_344], ("12344".to_owned(), "label 12344".to_owned(), None, Some(12_344)));

    let again = vec![row("00001", "changed", Some("note"), Some(100))];
    write(&db, OnConflict::Ignore(&["id"]), &again).await;
    assert_eq!(stored(&db).await[1], ("00001".to_owned(), "label 1".to_owned(), None, Some(1)), "ignored");
    write(&db, OnConflict::Update(&["id"], &["note"]), &again).await;
    assert_eq!(stored(&db).await[1], ("00001".to_owned(), "label 1".to_owned(), Some("note".to_owned()), Some(1)));
    write(&db, OnConflict::Add(&["id"], "count"), &again).await;
    assert_eq!(stored(&db).await[1], ("00001".to_owned(), "label 1".to_owned(), Some("note".to_owned()), Some(101)));
    write(&db, OnConflict::Replace(&["id"]), &again).await;
    assert_eq!(stored(&db).await[1], ("00001".to_owned(), "changed".to_owned(), Some("note".to_owned()), Some(100)));
    assert_eq!(stored(&db).await.len(), 12_345, "nothing added by the conflicting writes");

    // Rows said to be new are inserted; one that is not is an error, and its transaction changes nothing.
    write(&db, OnConflict::New, &[row("new", "a new row", None, None)]).await;
    let before = stored(&db).await;
    assert_eq!(before.len(), 12_346);
    let mut tx = db.begin().await.expect("begin");
    let clash = [row("newer", "new", None, None), row("00002", "not new", None, None)];
    let refused = write_rows(&mut tx, "rows_test", &COLUMNS, OnConflict::New, &clash).await;
    assert!(refused.is_err(), "a row already there is refused, not overwritten");
    drop(tx);
    assert_eq!(stored(&db).await, before);
}

macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::fresh_postgres().await).await;
                }
            )*
        }
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let dir = super::TempDir::new();
                    super::$test(super::fresh_sqlite(dir.path()).await).await;
                }
            )*
        }
    };
}

on_both_backends!(every_value_comes_back_as_written, many_rows_and_each_kind_of_conflict);

/// Start-up warns of a PostgreSQL database whose collation is not `C`: the test kit's databases are made in `C`, as
/// docs/operations.md asks; one in `C.UTF-8` (this machine's server's default) is told apart; SQLite has none.
#[tokio::test]
async fn a_database_not_in_the_c_locale_is_told_apart() {
    let c = fresh_postgres().await.collation().await.expect("read the collation");
    assert_eq!(c.as_deref(), Some("C"));
    assert!(compares_bytes("C"));
    let other = ReadDb::connect(&fresh_postgres_url_in("C.UTF-8").await).await.expect("connect");
    let collation = other.collation().await.expect("read the collation").expect("PostgreSQL has one");
    assert_eq!(collation, "C.UTF-8");
    assert!(!compares_bytes(&collation));
    let dir = TempDir::new();
    assert_eq!(fresh_sqlite(dir.path()).await.collation().await.expect("SQLite"), None);
}

/// An embedded read-model database's writes reach its file while it goes on writing: a checkpointer copies them out
/// of the write-ahead log, so its one writer never waits to (SQLite's writer would, but only once the write-ahead
/// log passed 1,000 pages; these few rows fill a handful).
#[tokio::test]
async fn an_embedded_databases_writes_reach_its_file_without_its_writer() {
    let dir = TempDir::new();
    let db = fresh_sqlite(dir.path()).await;
    create_table(&db).await;
    let file = dir.path().join("read.db");
    let before = std::fs::metadata(&file).expect("the database file").len();
    write(&db, OnConflict::New, &awkward_rows()).await;
    assert!(grows_past(&file, before).await, "the rows reached the file ({before} bytes before)");
    assert_eq!(stored(&db).await, expected(&awkward_rows()));
}
