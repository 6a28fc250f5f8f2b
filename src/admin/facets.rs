//! The filter panel's counts: how many rows each choice would show, given the search and
//! the other filters. Over the whole table each count walks an index (a GROUP BY on one
//! column, a range of dates); under a search or filter, whose condition needs a scan
//! anyway, one grouped scan serves them all.

use std::collections::HashMap;

use sqlx::{Row, SqlitePool};

use crate::admin::describe::{Filter, FilterKind};
use crate::admin::list::{date_range, Condition, DATE_CHOICES};
use crate::admin::value::{args, read, Value};

/// Rows per choice value of one filter.
pub type Counts = HashMap<String, i64>;

/// The counts of each of `filters` over the rows of `from` that `cond` keeps.
pub async fn counts(
    db: &SqlitePool,
    from: &str,
    filters: &[&Filter],
    cond: &Condition,
) -> sqlx::Result<Vec<Counts>> {
    if !cond.sql.is_empty() {
        return grouped(db, from, filters, cond).await;
    }
    let mut out = Vec::new();
    for filter in filters {
        let counts = match filter.kind {
            FilterKind::Date => date_ranges(db, from, filter).await?,
            _ => grouped(db, from, &[filter], cond)
                .await?
                .pop()
                .unwrap_or_default(),
        };
        out.push(counts);
    }
    Ok(out)
}

/// A date filter's choices over the whole table, one index range each.
async fn date_ranges(db: &SqlitePool, from: &str, filter: &Filter) -> sqlx::Result<Counts> {
    let mut counts = Counts::new();
    for (choice, _) in DATE_CHOICES {
        let Some((start, end)) = date_range(choice) else {
            continue;
        };
        let sql = format!(
            "SELECT count(*) FROM {from} WHERE {0} >= ? AND {0} < ?",
            filter.sql
        );
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(start)
            .bind(end)
            .fetch_one(db)
            .await?;
        counts.insert((*choice).to_owned(), n);
    }
    Ok(counts)
}

/// Rows grouped by the filters' values; date choices (which overlap) summed per group.
async fn grouped(
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
