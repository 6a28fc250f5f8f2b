//! A person's preferences, kept on the server so they follow them to every browser.

use serde::{Deserialize, Serialize};

/// The page's colours: `System` follows the browser's `prefers-color-scheme`.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    /// As `<html data-theme>` carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// Read as a string first, so a number or a list is a value of the wrong type (422), as
/// for every other field, rather than JSON serde's derive cannot read (400).
impl<'de> Deserialize<'de> for Theme {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const WORDS: &[&str] = &["system", "light", "dark"];
        let word = String::deserialize(d)?;
        match word.as_str() {
            "system" => Ok(Theme::System),
            "light" => Ok(Theme::Light),
            "dark" => Ok(Theme::Dark),
            _ => Err(serde::de::Error::unknown_variant(&word, WORDS)),
        }
    }
}

/// The stored preferences. A key the row lacks (stored before it existed) takes its
/// default, so adding a preference needs no migration.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// Browser notifications for direct messages and mentions while the tab is hidden.
    pub notifications: bool,
    /// A short sound with them.
    pub sound: bool,
    pub theme: Theme,
    /// Enter sends (Shift+Enter: a new line); `false`: Enter is a new line and
    /// Ctrl/Cmd+Enter sends.
    pub enter_sends: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            notifications: true,
            sound: false,
            theme: Theme::System,
            enter_sends: true,
        }
    }
}

impl Preferences {
    /// From the stored JSON; a row that does not parse (edited by hand) is the defaults.
    pub fn from_stored(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_default()
    }

    pub fn to_stored(self) -> String {
        serde_json::to_string(&self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// These preferences with what `change` names changed.
    pub fn with(self, change: &Change) -> Self {
        Preferences {
            notifications: change.notifications.unwrap_or(self.notifications),
            sound: change.sound.unwrap_or(self.sound),
            theme: change.theme.unwrap_or(self.theme),
            enter_sends: change.enter_sends.unwrap_or(self.enter_sends),
        }
    }
}

/// Some of the preferences, as `PATCH /api/me` sends them: a key Kanect does not know, or
/// a value of the wrong type, is refused (422) rather than kept or dropped unseen.
#[derive(utoipa::ToSchema, Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub notifications: Option<bool>,
    pub sound: Option<bool>,
    pub theme: Option<Theme>,
    pub enter_sends: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_take_their_defaults_and_a_change_touches_only_what_it_names() {
        let stored = Preferences::from_stored(r#"{"theme":"dark"}"#);
        assert_eq!(stored.theme, Theme::Dark);
        assert!(stored.enter_sends && stored.notifications && !stored.sound);
        assert_eq!(Preferences::from_stored("not json"), Preferences::default());
        let change: Change = serde_json::from_str(r#"{"enter_sends": false}"#).unwrap();
        let changed = stored.with(&change);
        assert_eq!((changed.theme, changed.enter_sends), (Theme::Dark, false));
        assert_eq!(Preferences::from_stored(&changed.to_stored()), changed);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_refused() {
        assert!(serde_json::from_str::<Change>(r#"{"colour": "red"}"#).is_err());
        assert!(serde_json::from_str::<Change>(r#"{"theme": "blue"}"#).is_err());
        assert!(serde_json::from_str::<Change>(r#"{"sound": "yes"}"#).is_err());
    }
}
