//! The console's store: every statement the generic admin runs. A model's description
//! names its table, its FROM clause (the model's own table aliased `t`), its columns and
//! the expression that names a row; this module puts those fragments together with the
//! clauses the request chose and binds every value the request supplied. Nothing a
//! request sends is ever formatted into SQL.

use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Executor, Row, Sqlite, SqlitePool, TypeInfo, ValueRef};

use super::WriteTx;
use crate::model::{Timestamp, UserId};

/// One column's value, as the console reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Value::Text(s) => s,
            _ => "",
        }
    }

    /// The value as a form field holds it.
    pub fn to_form(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Int(i) => i.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

fn args<'q>(values: impl IntoIterator<Item = &'q Value>) -> SqliteArguments<'q> {
    let mut args = SqliteArguments::default();
    for value in values {
        match value {
            Value::Null => args.add(None::<i64>),
            Value::Int(i) => args.add(*i),
            Value::Text(s) => args.add(s.as_str()),
        }
    }
    args
}

/// Column `i` of a row, whatever SQLite stored there.
fn read(row: &SqliteRow, i: usize) -> sqlx::Result<Value> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let type_name = raw.type_info().name().to_owned();
    Ok(match type_name.as_str() {
        "INTEGER" | "BOOLEAN" => Value::Int(row.try_get(i)?),
        "REAL" => Value::Text(row.try_get::<f64, _>(i)?.to_string()),
        "BLOB" => Value::Text("(binary)".into()),
        _ => Value::Text(row.try_get(i)?),
    })
}

fn cells(row: &SqliteRow, from: usize, to: usize) -> sqlx::Result<Vec<Value>> {
    (from..to).map(|i| read(row, i)).collect()
}

/// A JSON array of ids: one bound value for any number of them.
fn id_list(ids: &[i64]) -> Value {
    Value::Text(serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned()))
}

const IN_IDS: &str = "IN (SELECT value FROM json_each(?))";

/// A WHERE clause and its bound values, built only from a description's fragments (each
/// with its `?` marks) and values.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Condition {
    /// Any of `fragments` (each one `?`) matches `%word%`, for each word of `words`.
    pub fn search(&mut self, fragments: &[String], words: &str) {
        if fragments.is_empty() {
            return;
        }
        for word in words.split_whitespace() {
            self.clauses.push(format!("({})", fragments.join(" OR ")));
            let pattern = Value::Text(format!("%{}%", escape_like(word)));
            self.values
                .extend(std::iter::repeat_n(pattern, fragments.len()));
        }
    }

    /// `expression = value`.
    pub fn equals(&mut self, expression: &str, value: Value) {
        self.clauses.push(format!("{expression} = ?"));
        self.values.push(value);
    }

    /// `from <= expression < to`.
    pub fn within(&mut self, expression: &str, from: i64, to: i64) {
        self.clauses
            .push(format!("({expression} >= ? AND {expression} < ?)"));
        self.values.extend([Value::Int(from), Value::Int(to)]);
    }

    pub fn and(&mut self, other: Condition) {
        self.clauses.extend(other.clauses);
        self.values.extend(other.values);
    }

    /// How many values it binds (one per `?` of `sql`).
    pub fn bound(&self) -> usize {
        self.values.len()
    }

    /// The clause itself: the description's fragments and `?` marks, nothing else.
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// `LIKE` patterns match the word literally: `ESCAPE '\'` in the search fragments.
fn escape_like(word: &str) -> String {
    word.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// How many rows of `from` the condition keeps.
pub async fn count(db: &SqlitePool, from: &str, cond: &Condition) -> sqlx::Result<i64> {
    let sql = format!("SELECT count(*) FROM {from} {}", cond.sql());
    sqlx::query_scalar_with(&sql, args(&cond.values))
        .fetch_one(db)
        .await
}

/// How many rows `table` has.
pub async fn count_all(db: &SqlitePool, table: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db)
        .await
}

/// Every id the condition keeps (a bulk action's "select all").
pub async fn ids(db: &SqlitePool, from: &str, cond: &Condition) -> sqlx::Result<Vec<i64>> {
    let sql = format!("SELECT t.id FROM {from} {}", cond.sql());
    sqlx::query_scalar_with(&sql, args(&cond.values))
        .fetch_all(db)
        .await
}

/// One page of rows in `order` (expression, descending), ties by id, newest first: the id,
/// then a value per column. The page's ids come from the sort keys alone; only its own
/// rows then compute every column (names of senders, chats...).
pub async fn page(
    db: &SqlitePool,
    from: &str,
    columns: &[&str],
    cond: &Condition,
    order: &[(&str, bool)],
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<(i64, Vec<Value>)>> {
    let mut keys: Vec<String> = order
        .iter()
        .map(|(expr, desc)| format!("{expr} {}", if *desc { "DESC" } else { "ASC" }))
        .collect();
    keys.push("t.id DESC".into());
    let order = keys.join(", ");
    let sql = format!(
        "SELECT t.id, {} FROM {from} WHERE t.id IN
           (SELECT t.id FROM {from} {} ORDER BY {order} LIMIT ? OFFSET ?)
         ORDER BY {order}",
        columns.join(", "),
        cond.sql(),
    );
    let mut values = cond.values.clone();
    values.extend([Value::Int(limit), Value::Int(offset)]);
    let rows = sqlx::query_with(&sql, args(&values)).fetch_all(db).await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, cells(row, 1, columns.len() + 1)?)))
        .collect()
}

/// A group of `grouped_counts`: its key values, its rows, and each range's share.
pub struct Group {
    pub keys: Vec<Value>,
    pub count: i64,
    pub within: Vec<i64>,
}

/// The rows the condition keeps, grouped by `keys`, each group with its count and how
/// many of its rows fall in each of `ranges` (expression, from, to): the filter panel's
/// counts in one scan.
pub async fn grouped_counts(
    db: &SqlitePool,
    from: &str,
    keys: &[&str],
    ranges: &[(&str, i64, i64)],
    cond: &Condition,
) -> sqlx::Result<Vec<Group>> {
    let sums: Vec<String> = ranges
        .iter()
        .map(|(expr, ..)| format!("sum({expr} >= ? AND {expr} < ?)"))
        .collect();
    let mut values: Vec<Value> = ranges
        .iter()
        .flat_map(|(_, from, to)| [Value::Int(*from), Value::Int(*to)])
        .collect();
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
        cond.sql()
    );
    let rows = sqlx::query_with(&sql, args(&values)).fetch_all(db).await?;
    rows.iter()
        .map(|row| {
            Ok(Group {
                keys: cells(row, 0, keys.len())?,
                count: row.try_get(keys.len())?,
                within: cells(row, keys.len() + 1, keys.len() + 1 + ranges.len())?
                    .iter()
                    .map(|v| v.int().unwrap_or(0))
                    .collect(),
            })
        })
        .collect()
}

/// The stored values of `columns` of row `id` of `table`.
pub async fn load<'c>(
    conn: impl Executor<'c, Database = Sqlite>,
    table: &str,
    columns: &[&str],
    id: i64,
) -> sqlx::Result<Option<Vec<Value>>> {
    let sql = format!("SELECT {} FROM {table} WHERE id = ?", columns.join(", "));
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.map(|row| cells(&row, 0, columns.len())).transpose()
}

/// The name of row `id` (`repr` over the table aliased `t`), if it exists and has one.
pub async fn repr<'c>(
    conn: impl Executor<'c, Database = Sqlite>,
    table: &str,
    repr: &str,
    id: i64,
) -> sqlx::Result<Option<String>> {
    let sql = format!("SELECT {repr} FROM {table} t WHERE t.id = ?");
    let name: Option<Option<String>> = sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(name.flatten())
}

/// The first `limit` rows of `table` as (id, name), by name (a choice of related objects).
pub async fn options(
    db: &SqlitePool,
    table: &str,
    repr: &str,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String)>> {
    let sql = format!("SELECT t.id, {repr} FROM {table} t ORDER BY {repr} COLLATE NOCASE LIMIT ?");
    sqlx::query_as(&sql).bind(limit).fetch_all(db).await
}

pub async fn exists(db: &SqlitePool, table: &str, id: i64) -> sqlx::Result<bool> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?)");
    sqlx::query_scalar(&sql).bind(id).fetch_one(db).await
}

/// Names of those of `ids` that exist, in id order.
pub async fn names(
    db: &SqlitePool,
    table: &str,
    repr: &str,
    ids: &[i64],
) -> sqlx::Result<Vec<(i64, String)>> {
    let sql = format!("SELECT t.id, {repr} FROM {table} t WHERE t.id {IN_IDS} ORDER BY t.id");
    let list = id_list(ids);
    sqlx::query_as_with(&sql, args([&list])).fetch_all(db).await
}

/// How many rows of `table` point at `ids` through `key`, and the names (`repr`, over the
/// table aliased `r`) of the first `limit`: what deleting them takes along.
pub async fn related(
    db: &SqlitePool,
    table: &str,
    key: &str,
    repr: &str,
    ids: &[i64],
    limit: i64,
) -> sqlx::Result<(i64, Vec<String>)> {
    let from = format!("FROM {table} r WHERE r.{key} {IN_IDS}");
    let list = id_list(ids);
    let count: i64 = sqlx::query_scalar_with(&format!("SELECT count(*) {from}"), args([&list]))
        .fetch_one(db)
        .await?;
    let examples = sqlx::query_scalar_with(
        &format!("SELECT {repr} {from} LIMIT ?"),
        args([&list, &Value::Int(limit)]),
    )
    .fetch_all(db)
    .await?;
    Ok((count, examples))
}

/// Adds a row; its id.
pub async fn insert(tx: &mut WriteTx, table: &str, values: &[(&str, &Value)]) -> sqlx::Result<i64> {
    let columns: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let marks = vec!["?"; columns.len()].join(", ");
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({marks})",
        columns.join(", ")
    );
    let done = sqlx::query_with(&sql, args(values.iter().map(|(_, v)| *v)))
        .execute(&mut *tx)
        .await?;
    Ok(done.last_insert_rowid())
}

/// Sets `values` on row `id`.
pub async fn update(
    tx: &mut WriteTx,
    table: &str,
    id: i64,
    values: &[(&str, &Value)],
) -> sqlx::Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    let sets: Vec<String> = values.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let sql = format!("UPDATE {table} SET {} WHERE id = ?", sets.join(", "));
    let id = Value::Int(id);
    let bound = values.iter().map(|(_, v)| *v).chain(std::iter::once(&id));
    sqlx::query_with(&sql, args(bound))
        .execute(&mut *tx)
        .await
        .map(drop)
}

/// Deletes those of `ids` that exist (what goes with them goes by the schema's cascades);
/// their ids and names, as they were.
pub async fn delete(
    tx: &mut WriteTx,
    table: &str,
    repr: &str,
    ids: &[i64],
) -> sqlx::Result<Vec<(i64, Option<String>)>> {
    let list = id_list(ids);
    let sql = format!("SELECT t.id, {repr} FROM {table} t WHERE t.id {IN_IDS}");
    let doomed: Vec<(i64, Option<String>)> = sqlx::query_as_with(&sql, args([&list]))
        .fetch_all(&mut *tx)
        .await?;
    let sql = format!("DELETE FROM {table} WHERE id {IN_IDS}");
    sqlx::query_with(&sql, args([&list]))
        .execute(&mut *tx)
        .await?;
    Ok(doomed)
}

/// One entry of the console's history (Django's LogEntry), written in the transaction of
/// the change it records.
pub struct LogEntry<'a> {
    pub actor: UserId,
    pub object_type: &'a str,
    pub object_id: i64,
    pub object_repr: &'a str,
    /// 1 addition, 2 change, 3 deletion.
    pub flag: i64,
    pub message: &'a str,
}

pub async fn log(tx: &mut WriteTx, entry: LogEntry<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO admin_log (action_time, user_id, object_type, object_id, object_repr,
                                action_flag, change_message)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(Timestamp::now())
    .bind(entry.actor)
    .bind(entry.object_type)
    .bind(entry.object_id.to_string())
    .bind(entry.object_repr.chars().take(200).collect::<String>())
    .bind(entry.flag)
    .bind(entry.message)
    .execute(&mut *tx)
    .await
    .map(drop)
}

/// A history entry as pages show it: time, who, flag, message, model slug, object id,
/// object name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Logged {
    pub action_time: i64,
    pub username: Option<String>,
    pub action_flag: i64,
    pub change_message: String,
    pub object_type: String,
    pub object_id: String,
    pub object_repr: String,
}

const LOGGED: &str = "SELECT l.action_time, u.username, l.action_flag, l.change_message,
        l.object_type, l.object_id, l.object_repr
     FROM admin_log l LEFT JOIN users u ON u.id = l.user_id";

/// The newest entries, for the index's "Recent actions".
pub async fn recent(db: &SqlitePool, limit: i64) -> sqlx::Result<Vec<Logged>> {
    sqlx::query_as(&format!("{LOGGED} ORDER BY l.id DESC LIMIT ?"))
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Every entry about one object, oldest first.
pub async fn history(db: &SqlitePool, object_type: &str, id: i64) -> sqlx::Result<Vec<Logged>> {
    sqlx::query_as(&format!(
        "{LOGGED} WHERE l.object_type = ? AND l.object_id = ? ORDER BY l.id"
    ))
    .bind(object_type)
    .bind(id.to_string())
    .fetch_all(db)
    .await
}

/// Messages per UTC day (days since the epoch) from `since` on.
pub async fn messages_per_day(db: &SqlitePool, since: Timestamp) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as(
        "SELECT created_at / 86400000 AS day, count(*) FROM messages
         WHERE created_at >= ? GROUP BY day",
    )
    .bind(since)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }
}
