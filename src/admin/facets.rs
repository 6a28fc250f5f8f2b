//! The filter panel's counts: how many rows each choice would show, given the search and
//! the other filters. Filters whose counts share one condition share one grouped scan.

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
    let mut exprs = Vec::new();
    let mut values = Vec::new();
    for filter in filters {
        match filter.kind {
            // One yes/no column per choice: the ranges overlap.
            FilterKind::Date => {
                for (choice, _) in DATE_CHOICES {
                    let (start, end) = date_range(choice).unwrap_or((0, 0));
                    exprs.push(format!("({0} >= ? AND {0} < ?)", filter.sql));
                    values.extend([Value::Int(start), Value::Int(end)]);
                }
            }
            _ => exprs.push(filter.sql.to_owned()),
        }
    }
    if exprs.is_empty() {
        return Ok(Vec::new());
    }
    values.extend(cond.values.iter().cloned());
    let keys: Vec<String> = (1..=exprs.len()).map(|i| i.to_string()).collect();
    let sql = format!(
        "SELECT {}, count(*) FROM {from} {} GROUP BY {}",
        exprs.join(", "),
        cond.sql,
        keys.join(", ")
    );
    let rows = sqlx::query_with(&sql, args(&values)).fetch_all(db).await?;
    let mut out = vec![Counts::new(); filters.len()];
    for row in rows {
        let count: i64 = row.try_get(exprs.len())?;
        let mut column = 0;
        for (counts, filter) in out.iter_mut().zip(filters) {
            match filter.kind {
                FilterKind::Date => {
                    for (choice, _) in DATE_CHOICES {
                        if read(&row, column)?.int() == Some(1) {
                            *counts.entry((*choice).to_owned()).or_default() += count;
                        }
                        column += 1;
                    }
                }
                _ => {
                    *counts.entry(read(&row, column)?.to_form()).or_default() += count;
                    column += 1;
                }
            }
        }
    }
    Ok(out)
}
