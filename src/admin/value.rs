//! Column values of any model, as the console's store reads and writes them.

use std::collections::BTreeMap;

pub use crate::db::admin::Value;

/// One object's columns by name.
pub type Values = BTreeMap<&'static str, Value>;
