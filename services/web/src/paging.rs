//! Paging of lists: a page size (50 unless asked, at most 500) and an opaque cursor that names the last row of the
//! page before on a stable order (keyset paging), so a client walking a list page by page sees every row once,
//! even while rows are added before or after the one it stopped at, and no page costs more than the one before.
//!
//! A view declares its order as a [`Keyset`] (sort keys that never hold NULL, ending in a unique one), asks
//! [`Keyset::after`] for the condition "comes after the cursor" and [`Keyset::order_by`] for the order, reads one row
//! more than the page holds, and hands the rows to [`Page::paged`] with each row's key values. The JSON APIs take
//! [`PageParams`] as query parameters (`page_size`, `cursor`) and answer [`Paged`]; a page of HTML can use the same
//! view with a [`Page`] of its own.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// Items to a page when the request does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most items a page may hold.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The paging query parameters every API list takes. Read beside the list's own filters (a second `Query`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to a page: 1 to 500 (50 when left out).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub page_size: Option<String>,
    /// The `next_cursor` of the page before; left out for the first page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// The page asked for, of the list named `list` (a cursor of another list is refused).
    pub fn page(&self, list: &str) -> Result<Page, ApiError> {
        let size = match self.page_size.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<u32>() {
                Ok(size @ 1..=MAX_PAGE_SIZE) => size,
                Ok(0) => return Err(page_size_refused("page_size must be at least 1")),
                Ok(_) => {
                    return Err(page_size_refused(&format!(
                        "a page holds at most {MAX_PAGE_SIZE} items: ask for page_size {MAX_PAGE_SIZE} or fewer and \
                         follow next_cursor for the rest"
                    )));
                }
                Err(_) => {
                    return Err(page_size_refused(&format!("page_size is a whole number from 1 to {MAX_PAGE_SIZE}")));
                }
            },
        };
        let after = match self.cursor.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Cursor::decode(text, list)?),
        };
        Ok(Page { list: list.to_owned(), size, after })
    }
}

fn page_size_refused(message: &str) -> ApiError {
    ApiError::rejected("page_size_out_of_range", message)
}

/// One page of a list: how many items, and after which row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    list: String,
    pub size: u32,
    /// The sort-key values of the last row of the page before.
    pub after: Option<Vec<KeyValue>>,
}

impl Page {
    /// The first page of `list`, of `size` items (for pages of HTML, which choose their own size).
    pub fn first(list: &str, size: u32) -> Self {
        Self { list: list.to_owned(), size: size.clamp(1, MAX_PAGE_SIZE), after: None }
    }

    /// Rows to read: one more than the page holds, to know whether another page follows.
    pub fn limit(&self) -> i64 {
        i64::from(self.size) + 1
    }

    /// The page from the rows read (at most [`Page::limit`], in the keyset's order), each with its sort-key
    /// values: the items, and a cursor after the last of them when more rows follow.
    pub fn paged<T>(&self, rows: Vec<(T, Vec<KeyValue>)>, total: u64) -> Paged<T> {
        let more = rows.len() > self.size as usize;
        let mut items = Vec::with_capacity(rows.len().min(self.size as usize));
        let mut last = None;
        for (item, keys) in rows.into_iter().take(self.size as usize) {
            items.push(item);
            last = Some(keys);
        }
        let next_cursor = if more { last.map(|keys| Cursor::encode(&self.list, keys)) } else { None };
        Paged { items, next_cursor, total }
    }

    /// A page of a list held in memory, sorted by `key` (unique per item): for short lists read whole.
    pub fn of_sorted<T>(&self, mut all: Vec<T>, key: impl Fn(&T) -> Vec<KeyValue>) -> Paged<T> {
        all.sort_by_key(|item| key(item));
        let total = all.len() as u64;
        let rows: Vec<(T, Vec<KeyValue>)> = all
            .into_iter()
            .map(|item| {
                let keys = key(&item);
                (item, keys)
            })
            .filter(|(_, keys)| self.after.as_ref().is_none_or(|after| keys > after))
            .take(self.size as usize + 1)
            .collect();
        self.paged(rows, total)
    }
}

/// One page of a list as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass it as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// How many items the whole list holds now (every page).
    pub total: u64,
}

impl<T> Paged<T> {
    /// The same page with each item turned into another.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor, total: self.total }
    }
}

/// A sort-key value of a row, as a cursor carries it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyValue {
    Int(i64),
    Text(String),
}

impl From<i64> for KeyValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<String> for KeyValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for KeyValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

/// What a cursor holds: the list it belongs to and the last row's sort-key values. It is opaque to clients
/// (base64 of JSON) but not secret: it holds ids, dates and staff names, never a victim's details, and every
/// value reaches the SQL only as a bound parameter.
#[derive(Serialize, Deserialize)]
struct Cursor {
    list: String,
    after: Vec<KeyValue>,
}

impl Cursor {
    fn encode(list: &str, after: Vec<KeyValue>) -> String {
        let json = serde_json::to_vec(&Cursor { list: list.to_owned(), after }).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(text: &str, list: &str) -> Result<Vec<KeyValue>, ApiError> {
        let unreadable = || {
            ApiError::rejected(
                "cursor_invalid",
                "the cursor is not one this list gave: pass next_cursor exactly as it came, or leave it out to start \
                 from the first page",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| unreadable())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| unreadable())?;
        if cursor.list != list {
            return Err(ApiError::rejected(
                "cursor_of_another_list",
                "the cursor belongs to another list: start this one again without it",
            ));
        }
        Ok(cursor.after)
    }
}

/// One key of a stable order: an SQL expression over the row that is never NULL (wrap a nullable column in
/// `COALESCE`), so that both database backends order it alike, and whether it is a whole number or text.
#[derive(Debug, Clone, Copy)]
pub struct SortKey {
    pub expression: &'static str,
    pub descending: bool,
    pub integer: bool,
}

impl SortKey {
    /// A text key, ascending.
    pub const fn text(expression: &'static str) -> Self {
        Self { expression, descending: false, integer: false }
    }

    /// A whole-number key (`BIGINT`; cast anything narrower), ascending.
    pub const fn integer(expression: &'static str) -> Self {
        Self { expression, descending: false, integer: true }
    }

    /// The same key, descending.
    pub const fn descending(self) -> Self {
        Self { descending: true, ..self }
    }
}

/// A stable order: its keys, the last of which is unique per row.
#[derive(Debug, Clone, Copy)]
pub struct Keyset(pub &'static [SortKey]);

impl Keyset {
    /// `a DESC, b, c` for `ORDER BY`.
    pub fn order_by(&self) -> String {
        self.0
            .iter()
            .map(|key| if key.descending { format!("{} DESC", key.expression) } else { key.expression.to_owned() })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The keys as extra columns of a `SELECT` (`<expression> AS page_key_<n>`), to read back with
    /// [`Keyset::read`].
    pub fn columns(&self) -> String {
        self.0
            .iter()
            .enumerate()
            .map(|(n, key)| format!("{} AS page_key_{n}", key.expression))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A row's key values, from the columns [`Keyset::columns`] put from index `first` on.
    pub fn read(&self, row: &sqlx::any::AnyRow, first: usize) -> Result<Vec<KeyValue>, sqlx::Error> {
        use sqlx::Row as _;
        self.0
            .iter()
            .enumerate()
            .map(|(n, key)| {
                Ok(if key.integer {
                    KeyValue::Int(row.try_get::<i64, _>(first + n)?)
                } else {
                    KeyValue::Text(row.try_get::<String, _>(first + n)?)
                })
            })
            .collect()
    }

    /// The condition "the row comes after `after`" in this order, with numbered placeholders from `$first`, and the
    /// values to bind to them in order; `None` on a first page. Keys may run different ways, so this is spelled
    /// out (`a < $1 OR (a = $2 AND (b > $3 OR ...))`) rather than a row-value comparison.
    pub fn after(&self, after: Option<&[KeyValue]>, first: usize) -> Result<Option<(String, Vec<KeyValue>)>, ApiError> {
        let Some(after) = after.filter(|_| !self.0.is_empty()) else { return Ok(None) };
        if after.len() != self.0.len() {
            return Err(ApiError::rejected(
                "cursor_invalid",
                "the cursor is not one this list gave: pass next_cursor exactly as it came, or leave it out to start \
                 from the first page",
            ));
        }
        let mut binds = Vec::new();
        let mut next = first;
        let mut placeholder = |value: &KeyValue, binds: &mut Vec<KeyValue>| {
            binds.push(value.clone());
            next += 1;
            format!("${}", next - 1)
        };
        // Built from the last key outwards: `k_n op v_n`, then `k_i op v_i OR (k_i = v_i AND (<inner>))`.
        // (Placeholders are numbered in key order; the last key needs no equality.)
        let last = self.0.len() - 1;
        let mut pieces: Vec<(String, Option<String>)> = Vec::new();
        for (index, (key, value)) in self.0.iter().zip(after).enumerate() {
            let op = if key.descending { "<" } else { ">" };
            let beyond = format!("{} {op} {}", key.expression, placeholder(value, &mut binds));
            let equal = (index != last).then(|| format!("{} = {}", key.expression, placeholder(value, &mut binds)));
            pieces.push((beyond, equal));
        }
        let mut condition = String::new();
        for (beyond, equal) in pieces.into_iter().rev() {
            condition = match equal {
                None => beyond,
                Some(equal) => format!("({beyond} OR ({equal} AND {condition}))"),
            };
        }
        Ok(Some((condition, binds)))
    }
}

/// Binds cursor values to a query, in order.
pub fn bind_keys<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: Vec<KeyValue>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for value in values {
        query = match value {
            KeyValue::Int(value) => query.bind(value),
            KeyValue::Text(value) => query.bind(value),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(size: Option<&str>, cursor: Option<&str>) -> PageParams {
        PageParams { page_size: size.map(str::to_owned), cursor: cursor.map(str::to_owned) }
    }

    #[test]
    fn page_size_defaults_to_50_and_refuses_above_500_in_words() {
        assert_eq!(params(None, None).page("l").unwrap().size, 50);
        assert_eq!(params(Some("500"), None).page("l").unwrap().size, 500);
        let refused = params(Some("501"), None).page("l").unwrap_err();
        assert_eq!(refused.code, "page_size_out_of_range");
        assert!(refused.message.contains("at most 500"), "{}", refused.message);
        assert_eq!(params(Some("0"), None).page("l").unwrap_err().code, "page_size_out_of_range");
        assert_eq!(params(Some("ten"), None).page("l").unwrap_err().code, "page_size_out_of_range");
    }

    #[test]
    fn a_cursor_comes_back_as_it_went_and_only_to_its_own_list() {
        let page = Page::first("queue", 1);
        let rows = vec![("a", vec![KeyValue::Int(1), "x".into()]), ("b", vec![KeyValue::Int(0), "y".into()])];
        let paged = page.paged(rows, 2);
        assert_eq!(paged.items, ["a"]);
        let cursor = paged.next_cursor.unwrap();
        let next = params(None, Some(&cursor)).page("queue").unwrap();
        assert_eq!(next.after, Some(vec![KeyValue::Int(1), "x".into()]));
        assert_eq!(params(None, Some(&cursor)).page("other").unwrap_err().code, "cursor_of_another_list");
        assert_eq!(params(None, Some("not a cursor")).page("queue").unwrap_err().code, "cursor_invalid");
    }

    #[test]
    fn the_condition_spells_out_mixed_directions() {
        const KEYS: Keyset = Keyset(&[SortKey::integer("e").descending(), SortKey::text("r"), SortKey::text("id")]);
        assert_eq!(KEYS.order_by(), "e DESC, r, id");
        let (sql, binds) = KEYS.after(Some(&[KeyValue::Int(1), "t".into(), "i".into()]), 3).unwrap().unwrap();
        assert_eq!(sql, "(e < $3 OR (e = $4 AND (r > $5 OR (r = $6 AND id > $7))))");
        assert_eq!(binds.len(), 5);
        assert!(KEYS.after(None, 1).unwrap().is_none());
        assert!(KEYS.after(Some(&[KeyValue::Int(1)]), 1).is_err());
    }

    #[test]
    fn an_in_memory_list_pages_by_its_key() {
        let page = Page::first("l", 2);
        let first = page.of_sorted(vec![3, 1, 2], |n| vec![KeyValue::Int(*n)]);
        assert_eq!((first.items.as_slice(), first.total), (&[1, 2][..], 3));
        let next = params(Some("2"), first.next_cursor.as_deref()).page("l").unwrap();
        let second = next.of_sorted(vec![3, 1, 2], |n| vec![KeyValue::Int(*n)]);
        assert_eq!(second.items, [3]);
        assert!(second.next_cursor.is_none());
    }
}
