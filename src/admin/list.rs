//! A changelist's query: search, filters, ordering and paging, all in SQL. The request
//! only picks among the model's columns and filters and supplies bound values; anything
//! else it sends is ignored.

use time::{Date, Duration, Month, OffsetDateTime, Time};

use crate::admin::describe::{Column, Filter, FilterKind, Model};
use crate::admin::params::Params;
use crate::admin::value::Value;
use crate::db::admin::{self as store, Condition};
use crate::db::backend::Pool;

pub const DEFAULT_PER_PAGE: i64 = 100;
pub const MAX_PER_PAGE: i64 = 500;
/// A search uses its first this many distinct words: each adds a clause, and SQLite
/// refuses an expression tree deeper than 1,000 ("Expression tree is too large").
pub const MAX_SEARCH_WORDS: usize = 20;
/// And this many characters in all (SQLite refuses a LIKE pattern over 50,000 bytes).
pub const MAX_SEARCH_CHARS: usize = 200;

pub struct List {
    pub model: &'static Model,
    pub q: String,
    pub order: Vec<(&'static Column, bool)>,
    /// Filters in use, each with its (valid) value.
    pub filters: Vec<(&'static Filter, String)>,
    pub page: i64,
    pub per_page: i64,
}

impl List {
    pub fn new(model: &'static Model, params: &Params) -> List {
        let q = search_words(params.get("q").unwrap_or_default());
        let order = parse_order(model, params.get("o").unwrap_or_default());
        let order = if order.is_empty() {
            parse_order(model, model.ordering)
        } else {
            order
        };
        let filters = model
            .filters
            .iter()
            .filter_map(|filter| {
                let value = std::iter::once(filter.name)
                    .chain(filter.aliases.iter().copied())
                    .find_map(|name| params.get(name))?;
                condition(filter, value).map(|_| (filter, value.to_owned()))
            })
            .collect();
        let page = params
            .get("p")
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1);
        let per_page = params
            .get("per_page")
            .and_then(|p| p.parse::<i64>().ok())
            .map_or(DEFAULT_PER_PAGE, |n| n.clamp(1, MAX_PER_PAGE));
        List {
            model,
            q,
            order,
            filters,
            page,
            per_page,
        }
    }

    /// The query string for this list with `changes` applied (`None` removes a
    /// parameter); the page is dropped unless set.
    pub fn url(&self, changes: &[(&str, Option<String>)]) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if !self.q.is_empty() {
            pairs.push(("q".into(), self.q.clone()));
        }
        let order = self.order_param();
        if order != self.model.ordering {
            pairs.push(("o".into(), order));
        }
        for (filter, value) in &self.filters {
            pairs.push((filter.name.into(), value.clone()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(("per_page".into(), self.per_page.to_string()));
        }
        for (name, value) in changes {
            pairs.retain(|(n, _)| n != name);
            if let Some(value) = value {
                pairs.push(((*name).into(), value.clone()));
            }
        }
        format!("{}{}", self.model.url(), Params::query_string(&pairs))
    }

    pub fn order_param(&self) -> String {
        let parts: Vec<String> = self
            .order
            .iter()
            .map(|(column, desc)| format!("{}{}", if *desc { "-" } else { "" }, column.name))
            .collect();
        parts.join(",")
    }

    /// Search and every filter but `skip` (a filter's own counts ignore its choice).
    pub fn condition(&self, skip: Option<&str>, pg: bool) -> Condition {
        let mut cond = Condition::default();
        if !self.model.search.is_empty() {
            cond.search(&self.q, |word| {
                let finds = self.model.search.iter();
                finds.filter_map(|search| search.finds(word, pg)).collect()
            });
        }
        for (filter, value) in &self.filters {
            if Some(filter.name) == skip {
                continue;
            }
            if let Some(clause) = condition(filter, value) {
                cond.and(clause);
            }
        }
        cond
    }

    pub async fn count(&self, db: &Pool) -> sqlx::Result<i64> {
        store::count(db, self.model.from, &self.condition(None, db.is_postgres())).await
    }

    /// Every id the list matches (the bulk action's "select all").
    pub async fn ids(&self, db: &Pool) -> sqlx::Result<Vec<i64>> {
        store::ids(db, self.model.from, &self.condition(None, db.is_postgres())).await
    }

    /// One page of rows: the id, then a value per column.
    pub async fn rows(&self, db: &Pool, page: i64) -> sqlx::Result<Vec<(i64, Vec<Value>)>> {
        let columns: Vec<&str> = self.model.columns.iter().map(|c| c.sql).collect();
        let order: Vec<(&str, bool)> = self
            .order
            .iter()
            .map(|(column, desc)| (column.sql, *desc))
            .collect();
        let cond = self.condition(None, db.is_postgres());
        let offset = (page - 1) * self.per_page;
        store::page(
            db,
            self.model.from,
            &columns,
            &cond,
            &order,
            self.per_page,
            offset,
        )
        .await
    }
}

/// `q` as the search uses it: its first `MAX_SEARCH_WORDS` distinct words, one space
/// apart, cut at `MAX_SEARCH_CHARS`.
fn search_words(raw: &str) -> String {
    let mut words: Vec<&str> = Vec::new();
    for word in raw.split_whitespace() {
        if words.len() == MAX_SEARCH_WORDS {
            break;
        }
        if !words.contains(&word) {
            words.push(word);
        }
    }
    let cut: String = words.join(" ").chars().take(MAX_SEARCH_CHARS).collect();
    cut.trim_end().to_owned()
}

/// `o`: column names, `-` for descending, comma-separated; unknown names are dropped, and
/// so is a column named again (only its first mention counts), so no request can make an
/// ORDER BY longer than the model's columns.
fn parse_order(model: &'static Model, raw: &str) -> Vec<(&'static Column, bool)> {
    let mut order: Vec<(&'static Column, bool)> = Vec::new();
    for part in raw.split(',') {
        let part = part.trim();
        let (name, desc) = match part.strip_prefix('-') {
            Some(name) => (name, true),
            None => (part, false),
        };
        let column = model.columns.iter().find(|c| c.name == name);
        if let Some(column) = column.filter(|c| !order.iter().any(|(o, _)| o.name == c.name)) {
            order.push((column, desc));
        }
    }
    order
}

/// The filter's clause for `value`, or `None` when the value means nothing to it.
pub fn condition(filter: &Filter, value: &str) -> Option<Condition> {
    let mut cond = Condition::default();
    let equals = |v: Value| {
        let mut cond = Condition::default();
        cond.equals(filter.sql, v);
        cond
    };
    match filter.kind {
        FilterKind::Words(words) => words.contains(&value).then(|| equals(Value::from(value))),
        FilterKind::Choices(choices) => choices
            .iter()
            .any(|(v, _)| *v == value)
            .then(|| equals(Value::from(value))),
        FilterKind::Bool => parse_bool(value).map(|b| equals(Value::Bool(b))),
        FilterKind::Related(_) => value
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(|id| equals(Value::Int(id))),
        FilterKind::Date => date_range(value).map(|(from, to)| {
            cond.within(filter.sql, from, to);
            cond
        }),
    }
}

pub fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The date filter's choices, as Django's DateFieldListFilter offers them.
pub const DATE_CHOICES: &[(&str, &str)] = &[
    ("today", "Today"),
    ("past_7_days", "Past 7 days"),
    ("this_month", "This month"),
    ("this_year", "This year"),
];

/// Unix-millisecond bounds [from, to) of a date choice or a `YYYY-MM-DD` day, in UTC.
pub fn date_range(value: &str) -> Option<(i64, i64)> {
    let today = OffsetDateTime::now_utc().date();
    let tomorrow = today.next_day()?;
    let (from, to) = match value {
        "today" => (today, tomorrow),
        "past_7_days" => (today - Duration::days(7), tomorrow),
        "this_month" => (today.replace_day(1).ok()?, tomorrow),
        "this_year" => (
            Date::from_calendar_date(today.year(), Month::January, 1).ok()?,
            tomorrow,
        ),
        day => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = Date::parse(day, &format).ok()?;
            (day, day.next_day()?)
        }
    };
    let millis = |d: Date| d.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp() * 1000;
    Some((millis(from), millis(to)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_keeps_its_first_distinct_words_within_bounds() {
        assert_eq!(search_words("  bob   hello bob "), "bob hello");
        let many: Vec<String> = (0..3000).map(|n| format!("w{n}")).collect();
        assert_eq!(
            search_words(&many.join(" ")).split(' ').count(),
            MAX_SEARCH_WORDS
        );
        let long = "é".repeat(60_000);
        assert_eq!(
            search_words(&format!("hi {long}")).chars().count(),
            MAX_SEARCH_CHARS
        );
    }

    #[test]
    fn dates_are_utc_days() {
        let (from, to) = date_range("2026-11-24").unwrap_or_default();
        assert_eq!(to - from, 86_400_000);
        assert_eq!(date_range("2026-13-01"), None);
        assert_eq!(date_range("'; DROP TABLE users; --"), None);
    }
}
