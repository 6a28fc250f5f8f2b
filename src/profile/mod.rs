//! Profiles and preferences: `/api/me` and the forms of `/account` (display name, email,
//! preferences, own password), avatars, and the initials shown for people without one.

pub mod api;
pub mod avatar;
pub mod pages;
pub mod password;
pub mod preferences;

use std::collections::HashMap;

use rocket::Route;
use rocket_dyn_templates::tera;

pub use preferences::{Preferences, Theme};

/// Page routes: the account forms and the avatars.
pub fn routes() -> Vec<Route> {
    let mut routes = pages::routes();
    routes.extend(avatar::routes());
    routes
}

/// Initials backgrounds, chosen so white text on each has at least 4.5:1 contrast (in both
/// themes: these shades do not change). The same list, in the same order, is
/// `AVATAR_COLOURS` in assets/js/dom.js: a person has one colour on every page.
pub const PALETTE: [&str; 8] = [
    "bg-rose-700",
    "bg-amber-700",
    "bg-emerald-700",
    "bg-sky-700",
    "bg-violet-600",
    "bg-indigo-600",
    "bg-teal-700",
    "bg-fuchsia-700",
];

/// `username`'s colour: a hash of its lower-case code points (as dom.js's `avatarColour`).
pub fn colour(username: &str) -> &'static str {
    let hash = username
        .to_lowercase()
        .chars()
        .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)));
    PALETTE[hash as usize % PALETTE.len()]
}

/// Up to two initials of a shown name: its first word's and its last word's first
/// letters (as dom.js's `initials`).
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = |word: Option<&&str>| word.and_then(|w| w.chars().next());
    let mut out: String = first(words.first())
        .map(char::to_uppercase)
        .into_iter()
        .flatten()
        .collect();
    if words.len() > 1 {
        out.extend(
            first(words.last())
                .map(char::to_uppercase)
                .into_iter()
                .flatten(),
        );
    }
    if out.is_empty() {
        out.push('?');
    }
    out
}

/// `{{ avatar_colour(username=...) }}` and `{{ initials(name=...) }}` for templates.
pub fn register(tera: &mut tera::Tera) {
    tera.register_function("avatar_colour", |args: &HashMap<String, tera::Value>| {
        let name = args
            .get("username")
            .and_then(tera::Value::as_str)
            .unwrap_or_default();
        Ok(tera::Value::String(colour(name).to_owned()))
    });
    tera.register_function("initials", |args: &HashMap<String, tera::Value>| {
        let name = args
            .get("name")
            .and_then(tera::Value::as_str)
            .unwrap_or_default();
        Ok(tera::Value::String(initials(name)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stable_and_ignore_case() {
        // The same values as tests/js/avatar.test.js expects of dom.js.
        assert_eq!(colour("alice"), colour("ALICE"));
        assert_eq!(colour("alice"), PALETTE[92903040 % 8]);
        assert_eq!(colour(""), PALETTE[0]);
    }

    #[test]
    fn initials_take_the_first_and_last_words() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("ada"), "A");
        assert_eq!(initials("Jean Paul Sartre"), "JS");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("émile zola"), "ÉZ");
    }
}
