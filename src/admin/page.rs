//! What every console page shares: the frame (nav, breadcrumbs, flash messages), links
//! back with a message, and how values are shown.

use rocket::response::{Flash, Redirect};
use rocket_dyn_templates::Template;
use serde_json::{json, Map, Value as Json};

use crate::admin::describe::{capitalize, Model};
use crate::admin::guard::Staff;
use crate::admin::MODELS;

/// Breadcrumbs after "Home": label and link (the last one has none).
pub type Crumbs = Vec<(String, Option<String>)>;

/// "Home › Users › alice › <last>".
pub fn crumbs(model: Option<&Model>, object: Option<(i64, &str)>, last: Option<&str>) -> Crumbs {
    let mut crumbs: Crumbs = Vec::new();
    if let Some(model) = model {
        crumbs.push((model.label(), Some(model.url())));
        if let Some((id, repr)) = object {
            crumbs.push((repr.to_owned(), Some(model.object_url(id, "change"))));
        }
    }
    if let Some(last) = last {
        crumbs.push((last.to_owned(), None));
    }
    if let Some(crumb) = crumbs.last_mut() {
        crumb.1 = None;
    }
    crumbs
}

/// Renders a console page: the shared frame plus the page's own `body` (a JSON object).
pub fn render(
    staff: &Staff,
    template: &'static str,
    title: &str,
    crumbs: Crumbs,
    body: Json,
) -> Template {
    let models: Vec<Json> = MODELS
        .iter()
        .filter(|m| m.rules.can_view(&staff.user))
        .map(|m| json!({ "slug": m.slug, "label": m.label(), "url": m.url() }))
        .collect();
    let mut breadcrumbs = vec![json!({ "label": "Home", "url": "/admin/" })];
    breadcrumbs.extend(
        crumbs
            .into_iter()
            .map(|(label, url)| json!({ "label": label, "url": url })),
    );
    if breadcrumbs.len() == 1 {
        breadcrumbs[0]["url"] = Json::Null;
    }
    let messages: Vec<Json> = staff
        .flash
        .iter()
        .map(|(kind, text)| json!({ "level": kind, "text": text }))
        .collect();
    let mut context = Map::new();
    context.insert("csrf_token".into(), json!(staff.user.csrf_token()));
    context.insert("theme".into(), json!(staff.user.preferences.theme.as_str()));
    context.insert(
        "admin".into(),
        json!({
            "username": staff.user.username,
            "role": staff.user.role.as_str(),
            "is_superuser": staff.is_superuser(),
            "models": models,
        }),
    );
    context.insert("title".into(), json!(title));
    context.insert("breadcrumbs".into(), json!(breadcrumbs));
    context.insert("messages".into(), json!(messages));
    if let Json::Object(body) = body {
        context.extend(body);
    }
    Template::render(template, Json::Object(context))
}

/// The model as templates see it.
pub fn model_json(model: &Model, can_add: bool) -> Json {
    json!({
        "slug": model.slug,
        "name": model.name,
        "name_plural": model.plural,
        "label": model.label(),
        "url": model.url(),
        "add_url": can_add.then(|| format!("/admin/{}/add/", model.slug)),
    })
}

/// Back to `to` with a message for the next page.
pub fn done(to: String, message: String) -> Flash<Redirect> {
    Flash::success(Redirect::to(to), message)
}

pub fn refused(to: String, message: String) -> Flash<Redirect> {
    Flash::error(Redirect::to(to), message)
}

pub fn warned(to: String, message: String) -> Flash<Redirect> {
    Flash::warning(Redirect::to(to), message)
}

/// A time as the console shows it: "2026-11-24 09:15 UTC".
pub fn show_time(millis: i64) -> String {
    crate::model::Timestamp(millis).to_display()
}

/// A size as people read it, in decimal units as `max_upload_mb` counts them: "980 bytes",
/// "1.2 MB".
pub fn show_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes.unsigned_abs() < 1000 {
        return if bytes == 1 {
            "1 byte".to_owned()
        } else {
            format!("{bytes} bytes")
        };
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    // 999,950 bytes would round to "1000.0 kB": say "1.0 MB" instead.
    while value.abs() >= 999.95 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// 1234567 → "1,234,567".
pub fn show_count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A word shown to people: "superuser" → "Superuser".
pub fn show_word(word: &str) -> String {
    capitalize(word)
}

/// A PHC password hash as algorithm and the start of its salt; the rest stays hidden.
pub fn show_password_hash(hash: &str) -> String {
    let mut parts = hash.split('$').skip(1);
    let algorithm = parts.next().unwrap_or_default();
    let salt = parts.find(|p| !p.contains('=')).unwrap_or_default();
    if algorithm.is_empty() || salt.is_empty() {
        return "No password set.".into();
    }
    let prefix: String = salt.chars().take(6).collect();
    format!("algorithm: {algorithm}  salt: {prefix}******")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_shows_algorithm_and_salt_prefix_only() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaA";
        let shown = show_password_hash(hash);
        assert_eq!(shown, "algorithm: argon2id  salt: c29tZX******");
        assert!(!shown.contains("aGFzaG"));
        assert_eq!(show_password_hash("garbage"), "No password set.");
    }

    #[test]
    fn sizes_show_in_decimal_units_to_one_place() {
        assert_eq!(show_bytes(0), "0 bytes");
        assert_eq!(show_bytes(1), "1 byte");
        assert_eq!(show_bytes(999), "999 bytes");
        assert_eq!(show_bytes(1000), "1.0 kB");
        assert_eq!(show_bytes(1_234_567), "1.2 MB");
        assert_eq!(show_bytes(999_960), "1.0 MB");
        assert_eq!(show_bytes(25_000_000), "25.0 MB");
        assert_eq!(show_bytes(3_500_000_000), "3.5 GB");
        assert_eq!(show_bytes(i64::MAX), "9223.4 PB");
        assert_eq!(show_count(1_234_567), "1,234,567");
        assert_eq!(show_count(999), "999");
        assert_eq!(show_count(-1000), "-1,000");
    }

    #[test]
    fn times_show_in_utc_to_the_minute() {
        assert_eq!(show_time(1_764_000_000_123), "2025-11-24 16:00 UTC");
    }
}
