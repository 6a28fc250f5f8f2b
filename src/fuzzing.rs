//! Entry points for the fuzz targets in `fuzz/` (not part of the API). They reach the
//! admin console's changelist query, which is otherwise private, without a request.

use crate::admin::list::List;
use crate::admin::params::Params;
use crate::admin::MODELS;

/// What a changelist query string turned into, for one model.
#[derive(Debug, PartialEq, Eq)]
pub struct ListProbe {
    pub slug: &'static str,
    /// The WHERE clause built from the query (only our own SQL and `?` placeholders).
    pub where_sql: String,
    /// How many values are bound to it.
    pub bound: usize,
    pub q: String,
    pub order: String,
    pub filters: Vec<(&'static str, String)>,
    pub page: i64,
    pub per_page: i64,
    /// The list's own URL (sorting and filter links are built like it).
    pub url: String,
}

/// Reads `params` as each model's changelist does and reports what came of it.
pub fn admin_list(params: &Params) -> Vec<ListProbe> {
    MODELS
        .iter()
        .map(|model| {
            let list = List::new(model, params);
            let condition = list.condition(None, false);
            ListProbe {
                slug: model.slug,
                where_sql: condition.sql(),
                bound: condition.bound(),
                q: list.q.clone(),
                order: list.order_param(),
                filters: list
                    .filters
                    .iter()
                    .map(|(filter, value)| (filter.name, value.clone()))
                    .collect(),
                page: list.page,
                per_page: list.per_page,
                url: list.url(&[]),
            }
        })
        .collect()
}

/// The query string's name/value pairs as the changelist's request guard reads them, or
/// `None` when it is not a valid URL query at all (Rocket answers 400 before routing).
pub fn query_params(query: &str) -> Option<Params> {
    let uri = rocket::http::uri::Origin::parse_owned(format!("/admin/x?{query}")).ok()?;
    Some(Params::from_query(uri.query()))
}
