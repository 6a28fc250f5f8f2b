//! The console's store: every statement the generic admin runs. A model's description
//! names its table, its FROM clause (the model's own table aliased `t`), its columns and
//! the expression that names a row; this module puts those fragments together with the
//! clauses the request chose and binds every value the request supplied. Nothing a
//! request sends is ever formatted into SQL.
//!
//! Fragments and clauses mark their values with `?`; `finish` numbers them for the
//! backend (a NULL is written as `NULL`: PostgreSQL types even a NULL parameter, and no
//! one type fits every column) and, on PostgreSQL, makes LIKE as case-blind as SQLite's.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, TypeInfo, ValueRef};

use super::backend::{on, ConnRef, Pool};
use super::WriteTx;
use crate::model::{Timestamp, UserId};

/// One column's value, as the console reads and writes it.
#[derive(Debug, Clone, Eq)]
pub enum Value {
    Null,
    Int(i64),
    /// A yes/no column: PostgreSQL's boolean, SQLite's 0 or 1 (read back as `Int`).
    Bool(bool),
    Text(String),
}

impl Value {
    /// The value as a number; a yes/no as 1 or 0.
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
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
            Value::Bool(b) => i64::from(*b).to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

/// A yes/no equals the number SQLite stores for it, so that a value read back from
/// either database compares equal to the one a form submitted.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Bool(_), Value::Int(_)) | (Value::Int(_), Value::Bool(_)) => {
                self.int() == other.int()
            }
            (Value::Null, Value::Null) => true,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Text(a), Value::Text(b)) => a == b,
            _ => false,
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

/// `sql` with its `?` marks numbered for `values` (a NULL written in place), and the
/// values that remain to bind, in order.
fn finish<'v>(sql: &str, values: &'v [Value], pg: bool) -> (String, Vec<&'v Value>) {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut bound = Vec::with_capacity(values.len());
    let mut values = values.iter();
    let mut quoted = false;
    for ch in sql.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '?' if !quoted => match values.next() {
                Some(Value::Null) | None => out.push_str("NULL"),
                Some(value) => {
                    bound.push(value);
                    out.push('$');
                    out.push_str(&bound.len().to_string());
                }
            },
            _ => out.push(ch),
        }
    }
    let sql = if pg {
        out.replace(" LIKE ", " ILIKE ")
    } else {
        out
    };
    (sql, bound)
}

/// `$query` (any sqlx query builder) with `$values` (`&Value`s) bound in order.
macro_rules! bind_all {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Value::Null => query.bind(None::<i64>),
                Value::Int(i) => query.bind(*i),
                Value::Bool(b) => query.bind(*b),
                Value::Text(s) => query.bind(s.as_str()),
            };
        }
        query
    }};
}

/// A row of either backend, read column by column whatever its type.
trait Cells {
    /// Column `i`, whatever the database stored there.
    fn value(&self, i: usize) -> sqlx::Result<Value>;

    fn cells(&self, from: usize, to: usize) -> sqlx::Result<Vec<Value>> {
        (from..to).map(|i| self.value(i)).collect()
    }
}

/// The type names are SQLite's and PostgreSQL's: no name means one thing in one and
/// another in the other.
macro_rules! cells_of {
    ($row:ty) => {
        impl Cells for $row {
            fn value(&self, i: usize) -> sqlx::Result<Value> {
                let raw = self.try_get_raw(i)?;
                if raw.is_null() {
                    return Ok(Value::Null);
                }
                let type_name = raw.type_info().name().to_owned();
                Ok(match type_name.as_str() {
                    "INTEGER" | "BOOLEAN" | "INT8" => Value::Int(self.try_get(i)?),
                    "INT4" => Value::Int(self.try_get::<i32, _>(i)?.into()),
                    "INT2" => Value::Int(self.try_get::<i16, _>(i)?.into()),
                    "BOOL" => Value::Bool(self.try_get(i)?),
                    "REAL" | "FLOAT8" => Value::Text(self.try_get::<f64, _>(i)?.to_string()),
                    "BLOB" | "BYTEA" => Value::Text("(binary)".into()),
                    _ => Value::Text(self.try_get(i)?),
                })
            }
        }
    };
}

cells_of!(SqliteRow);
cells_of!(PgRow);

/// A JSON array of ids: one bound value for any number of them.
fn id_list(ids: &[i64]) -> Value {
    Value::Text(serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned()))
}

/// Ids among the JSON array bound at this `?` (`id_list`).
fn in_ids(pg: bool) -> &'static str {
    if pg {
        "IN (SELECT value::bigint FROM json_array_elements_text(?::json))"
    } else {
        "IN (SELECT value FROM json_each(?))"
    }
}

/// A WHERE clause and its bound values, built only from a description's fragments (each
/// with its `?` marks) and values.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Condition {
    /// Each word of `words` is found by one of the conditions `finds` gives for it (each
    /// with one `?`); a word that none can find matches nothing.
    pub fn search(&mut self, words: &str, finds: impl Fn(&str) -> Vec<(String, Value)>) {
        for word in words.split_whitespace() {
            let (clauses, values): (Vec<String>, Vec<Value>) = finds(word).into_iter().unzip();
            if clauses.is_empty() {
                self.clauses.push("1 = 0".to_owned());
            } else {
                self.clauses.push(format!("({})", clauses.join(" OR ")));
                self.values.extend(values);
            }
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

/// The `LIKE` pattern that finds `word` anywhere, literally (with `ESCAPE '\'`).
pub fn like(word: &str) -> Value {
    Value::Text(format!("%{}%", escape_like(word)))
}

fn escape_like(word: &str) -> String {
    word.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// How many rows of `from` the condition keeps.
pub async fn count(db: &Pool, from: &str, cond: &Condition) -> sqlx::Result<i64> {
    let sql = format!("SELECT count(*) FROM {from} {}", cond.sql());
    on!(db, |c, pg| {
        let (sql, values) = finish(&sql, &cond.values, pg);
        bind_all!(sqlx::query_scalar(&sql), values)
            .fetch_one(c)
            .await
    })
}

/// How many rows `table` has.
pub async fn count_all(db: &Pool, table: &str) -> sqlx::Result<i64> {
    on!(db, |c| {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(c)
            .await
    })
}

/// Every id the condition keeps (a bulk action's "select all").
pub async fn ids(db: &Pool, from: &str, cond: &Condition) -> sqlx::Result<Vec<i64>> {
    let sql = format!("SELECT t.id FROM {from} {}", cond.sql());
    on!(db, |c, pg| {
        let (sql, values) = finish(&sql, &cond.values, pg);
        bind_all!(sqlx::query_scalar(&sql), values)
            .fetch_all(c)
            .await
    })
}

/// One page of rows in `order` (expression, descending), ties by id, newest first: the id,
/// then a value per column. The page's ids come from the sort keys alone; only its own
/// rows then compute every column (names of senders, chats...).
pub async fn page(
    db: &Pool,
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
    on!(db, |c, pg| {
        let (sql, values) = finish(&sql, &values, pg);
        let rows = bind_all!(sqlx::query(&sql), values).fetch_all(c).await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.cells(1, columns.len() + 1)?)))
            .collect()
    })
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
    db: &Pool,
    from: &str,
    keys: &[&str],
    ranges: &[(&str, i64, i64)],
    cond: &Condition,
) -> sqlx::Result<Vec<Group>> {
    let sums: Vec<String> = ranges
        .iter()
        .map(|(expr, ..)| format!("count(CASE WHEN {expr} >= ? AND {expr} < ? THEN 1 END)"))
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
    on!(db, |c, pg| {
        let (sql, values) = finish(&sql, &values, pg);
        let rows = bind_all!(sqlx::query(&sql), values).fetch_all(c).await?;
        rows.iter()
            .map(|row| {
                Ok(Group {
                    keys: row.cells(0, keys.len())?,
                    count: row.try_get(keys.len())?,
                    within: row
                        .cells(keys.len() + 1, keys.len() + 1 + ranges.len())?
                        .iter()
                        .map(|v| v.int().unwrap_or(0))
                        .collect(),
                })
            })
            .collect()
    })
}

/// The stored values of `columns` of row `id` of `table`.
pub async fn load(
    conn: ConnRef<'_>,
    table: &str,
    columns: &[&str],
    id: i64,
) -> sqlx::Result<Option<Vec<Value>>> {
    let sql = format!("SELECT {} FROM {table} WHERE id = $1", columns.join(", "));
    on!(conn, |c| {
        let row = sqlx::query(&sql).bind(id).fetch_optional(c).await?;
        row.map(|row| row.cells(0, columns.len())).transpose()
    })
}

/// The name of row `id` (`repr` over the table aliased `t`), if it exists and has one.
pub async fn repr(
    conn: ConnRef<'_>,
    table: &str,
    repr: &str,
    id: i64,
) -> sqlx::Result<Option<String>> {
    let sql = format!("SELECT {repr} FROM {table} t WHERE t.id = $1");
    let name: Option<Option<String>> = on!(conn, |c| {
        sqlx::query_scalar(&sql).bind(id).fetch_optional(c).await
    })?;
    Ok(name.flatten())
}

/// The first `limit` rows of `table` as (id, name), by name ignoring case (a choice of
/// related objects).
pub async fn options(
    db: &Pool,
    table: &str,
    repr: &str,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String)>> {
    let sql = format!("SELECT t.id, {repr} FROM {table} t ORDER BY lower({repr}) LIMIT $1");
    on!(db, |c| sqlx::query_as(&sql).bind(limit).fetch_all(c).await)
}

pub async fn exists(db: &Pool, table: &str, id: i64) -> sqlx::Result<bool> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)");
    on!(db, |c| sqlx::query_scalar(&sql).bind(id).fetch_one(c).await)
}

/// Names of those of `ids` that exist, in id order.
pub async fn names(
    db: &Pool,
    table: &str,
    repr: &str,
    ids: &[i64],
) -> sqlx::Result<Vec<(i64, String)>> {
    let list = [id_list(ids)];
    on!(db, |c, pg| {
        let sql = format!(
            "SELECT t.id, {repr} FROM {table} t WHERE t.id {} ORDER BY t.id",
            in_ids(pg)
        );
        let (sql, values) = finish(&sql, &list, pg);
        bind_all!(sqlx::query_as(&sql), values).fetch_all(c).await
    })
}

/// How many rows of `table` point at `ids` through `key`, and the names (`repr`, over the
/// table aliased `r`) of the first `limit`: what deleting them takes along.
pub async fn related(
    db: &Pool,
    table: &str,
    key: &str,
    repr: &str,
    ids: &[i64],
    limit: i64,
) -> sqlx::Result<(i64, Vec<String>)> {
    let values = [id_list(ids), Value::Int(limit)];
    on!(db, |c, pg| {
        let from = format!("FROM {table} r WHERE r.{key} {}", in_ids(pg));
        let (sql, bound) = finish(&format!("SELECT count(*) {from}"), &values[..1], pg);
        let count: i64 = bind_all!(sqlx::query_scalar(&sql), bound)
            .fetch_one(c)
            .await?;
        let (sql, bound) = finish(&format!("SELECT {repr} {from} LIMIT ?"), &values, pg);
        let examples = bind_all!(sqlx::query_scalar(&sql), bound)
            .fetch_all(c)
            .await?;
        Ok((count, examples))
    })
}

/// Adds a row; its id.
pub async fn insert(tx: &mut WriteTx, table: &str, values: &[(&str, &Value)]) -> sqlx::Result<i64> {
    let columns: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let marks = vec!["?"; columns.len()].join(", ");
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({marks}) RETURNING id",
        columns.join(", ")
    );
    let values: Vec<Value> = values.iter().map(|(_, v)| (*v).clone()).collect();
    on!(tx, |c, pg| {
        let (sql, values) = finish(&sql, &values, pg);
        bind_all!(sqlx::query_scalar(&sql), values)
            .fetch_one(c)
            .await
    })
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
    let values: Vec<Value> = values
        .iter()
        .map(|(_, v)| (*v).clone())
        .chain([Value::Int(id)])
        .collect();
    on!(tx, |c, pg| {
        let (sql, values) = finish(&sql, &values, pg);
        bind_all!(sqlx::query(&sql), values)
            .execute(c)
            .await
            .map(drop)
    })
}

/// Deletes those of `ids` that exist (what goes with them goes by the schema's cascades);
/// their ids and names, as they were.
pub async fn delete(
    tx: &mut WriteTx,
    table: &str,
    repr: &str,
    ids: &[i64],
) -> sqlx::Result<Vec<(i64, Option<String>)>> {
    let list = [id_list(ids)];
    on!(tx, |c, pg| {
        let sql = format!(
            "SELECT t.id, {repr} FROM {table} t WHERE t.id {}",
            in_ids(pg)
        );
        let (sql, values) = finish(&sql, &list, pg);
        let doomed: Vec<(i64, Option<String>)> = bind_all!(sqlx::query_as(&sql), values)
            .fetch_all(&mut *c)
            .await?;
        let sql = format!("DELETE FROM {table} WHERE id {}", in_ids(pg));
        let (sql, values) = finish(&sql, &list, pg);
        bind_all!(sqlx::query(&sql), values)
            .execute(&mut *c)
            .await?;
        Ok(doomed)
    })
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
    on!(tx, |c| sqlx::query(
        "INSERT INTO admin_log (action_time, user_id, object_type, object_id, object_repr,
                                action_flag, change_message)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Timestamp::now())
    .bind(entry.actor)
    .bind(entry.object_type)
    .bind(entry.object_id.to_string())
    .bind(entry.object_repr.chars().take(200).collect::<String>())
    .bind(entry.flag)
    .bind(entry.message)
    .execute(c)
    .await
    .map(drop))
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
pub async fn recent(db: &Pool, limit: i64) -> sqlx::Result<Vec<Logged>> {
    on!(db, |c| {
        sqlx::query_as(&format!("{LOGGED} ORDER BY l.id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(c)
            .await
    })
}

/// Every entry about one object, oldest first.
pub async fn history(db: &Pool, object_type: &str, id: i64) -> sqlx::Result<Vec<Logged>> {
    on!(db, |c| {
        sqlx::query_as(&format!(
            "{LOGGED} WHERE l.object_type = $1 AND l.object_id = $2 ORDER BY l.id"
        ))
        .bind(object_type)
        .bind(id.to_string())
        .fetch_all(c)
        .await
    })
}

/// Messages per UTC day (days since the epoch) from `since` on.
pub async fn messages_per_day(db: &Pool, since: Timestamp) -> sqlx::Result<Vec<(i64, i64)>> {
    on!(db, |c| {
        sqlx::query_as(
            "SELECT created_at / 86400000 AS day, count(*) FROM messages
             WHERE created_at >= $1 GROUP BY day",
        )
        .bind(since)
        .fetch_all(c)
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn marks_are_numbered_past_quotes_and_nulls_are_written_in_place() {
        let values = [Value::Int(1), Value::Null, Value::from("x")];
        let (sql, bound) = finish("a = ? AND b = '?' AND c = ? AND d LIKE ?", &values, true);
        assert_eq!(sql, "a = $1 AND b = '?' AND c = NULL AND d ILIKE $2");
        assert_eq!(bound, [&Value::Int(1), &Value::from("x")]);
    }
}
