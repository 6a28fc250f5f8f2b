//! The admin console's query strings and submitted forms: parsing never panics, the SQL
//! a changelist builds holds only our own text with one bound value per placeholder, and
//! the list's own URL reads back as the same list.
#![no_main]

use kanect::admin::params::Params;
use kanect::fuzzing::{admin_list, query_params};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    // A submitted form (`application/x-www-form-urlencoded`), as the console's POSTs read it.
    if let Ok(form) = rocket::form::Form::<Params>::parse(text) {
        check(&form);
    }

    // A query string, as the changelist's request guard reads it.
    if let Some(params) = query_params(text) {
        check(&params);
    }
});

fn check(params: &Params) {
    for probe in admin_list(params) {
        // Every `?` in the clause is a bound value: nothing from the request is in the SQL.
        let placeholders = probe.where_sql.matches('?').count();
        assert_eq!(placeholders, probe.bound, "{probe:?}");
        assert!(!probe.where_sql.contains(';'), "{probe:?}");
        assert!(probe.page >= 1);
        assert!((1..=500).contains(&probe.per_page));
        // The list's URL (what sorting, paging and filter links are made of) gives back
        // the same list.
        let (_, query) = probe.url.split_once('?').unwrap_or((&probe.url, ""));
        let again = query_params(query).expect("the list's own URL is a valid query");
        let reread = admin_list(&again)
            .into_iter()
            .find(|p| p.slug == probe.slug)
            .expect("same model");
        assert_eq!(reread.q, probe.q, "{}", probe.url);
        assert_eq!(reread.order, probe.order, "{}", probe.url);
        assert_eq!(reread.filters, probe.filters, "{}", probe.url);
        assert_eq!(reread.per_page, probe.per_page, "{}", probe.url);
        assert_eq!(reread.where_sql, probe.where_sql, "{}", probe.url);
    }
}
