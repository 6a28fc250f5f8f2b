//! Column values of any model, and the dynamic (but always parameterised) SQL around them.

use std::collections::BTreeMap;

use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Row, TypeInfo, ValueRef};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// One object's columns by name.
pub type Values = BTreeMap<&'static str, Value>;

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

/// Bound parameters for a statement built from our own SQL fragments.
pub fn args<'q>(values: impl IntoIterator<Item = &'q Value>) -> SqliteArguments<'q> {
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
pub fn read(row: &SqliteRow, i: usize) -> sqlx::Result<Value> {
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

/// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`: one statement for any
/// number of ids.
pub fn id_list(ids: &[i64]) -> Value {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    Value::Text(format!("[{}]", list.join(",")))
}

pub const IN_IDS: &str = "IN (SELECT value FROM json_each(?))";
