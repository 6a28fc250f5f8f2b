//! Name/value pairs of a query string or a submitted form, kept in order and with repeats
//! (`_selected_action` comes once per chosen row), since a console form's fields depend on
//! the model.

use rocket::form::{self, DataField, FromForm, ValueField};
use rocket::http::uri::Query;
use rocket::http::RawStr;
use rocket::request::{FromRequest, Outcome, Request};

#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The decoded name/value pairs of a URL's query, in order.
    pub fn from_query(query: Option<Query<'_>>) -> Params {
        let pairs = query
            .map(|query| {
                query
                    .segments()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Params(pairs)
    }

    /// `?a=1&b=2`, or nothing when empty.
    pub fn query_string(pairs: &[(String, String)]) -> String {
        if pairs.is_empty() {
            return String::new();
        }
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(n, v)| {
                format!(
                    "{}={}",
                    RawStr::new(n).percent_encode(),
                    RawStr::new(v).percent_encode()
                )
            })
            .collect();
        format!("?{}", encoded.join("&"))
    }
}

/// The request's query string.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for Params {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Params::from_query(req.uri().query()))
    }
}

/// A submitted form.
#[rocket::async_trait]
impl<'r> FromForm<'r> for Params {
    type Context = Vec<(String, String)>;

    fn init(_: form::Options) -> Self::Context {
        Vec::new()
    }

    fn push_value(ctxt: &mut Self::Context, field: ValueField<'r>) {
        ctxt.push((field.name.to_string(), field.value.to_owned()));
    }

    async fn push_data(_: &mut Self::Context, _: DataField<'r, '_>) {}

    fn finalize(ctxt: Self::Context) -> form::Result<'r, Self> {
        Ok(Params(ctxt))
    }
}
