//! Every rule about user input, in one place. Each validated input is a type, so a value
//! that reached the data layer has passed these checks.

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;
pub const BODY_MAX: usize = 4000;
pub const TITLE_MAX: usize = 100;

/// A rule broken by one field: which field and what to tell the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            field,
            message: message.into(),
        }
    }
}

fn has_control(text: &str, allowed: &[char]) -> bool {
    text.chars()
        .any(|c| c.is_control() && !allowed.contains(&c))
}

/// A username: 3-32 letters, digits, `_`, `.` or `-`, NFC-normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let name: String = raw.trim().nfc().collect();
        let len = name.chars().count();
        if len == 0 {
            return Err(Invalid::new(field, "Enter a username."));
        }
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(Invalid::new(
                field,
                "Use only letters, digits and the characters _ . -",
            ));
        }
        if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
            return Err(Invalid::new(
                field,
                format!("Use {USERNAME_MIN} to {USERNAME_MAX} characters."),
            ));
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form that decides uniqueness: "Alice" and "alice" are the same person.
    pub fn key(&self) -> String {
        username_key(&self.0)
    }
}

/// The uniqueness key of any username-like text (also used for look-ups).
pub fn username_key(name: &str) -> String {
    name.trim().nfc().collect::<String>().to_lowercase()
}

/// An email address or nothing: the contract makes it optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim();
        if email.is_empty() {
            return Ok(Email::default());
        }
        let valid = email.len() <= EMAIL_MAX
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && match email.rsplit_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && domain.contains('.')
                        && !domain.contains('@')
                }
                None => false,
            };
        if valid {
            Ok(Email(email.to_owned()))
        } else {
            Err(Invalid::new(field, "Enter a valid email address."))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Django's password validators: minimum length, not all digits, not a common password,
/// not too close to the username. Returns every rule broken, as Django does.
pub fn password_problems(password: &str, username: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        problems.push(format!(
            "This password is too short. It must contain at least {PASSWORD_MIN} characters."
        ));
    }
    if len > PASSWORD_MAX {
        problems.push(format!(
            "This password is too long. Use at most {PASSWORD_MAX} characters."
        ));
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        problems.push("This password is entirely numeric.".to_owned());
    }
    let lower = password.trim().to_lowercase();
    if COMMON_PASSWORDS.contains(lower.as_str()) {
        problems.push("This password is too common.".to_owned());
    }
    if too_similar(&lower, &username_key(username)) {
        problems.push("The password is too similar to the username.".to_owned());
    }
    problems
}

/// A new password that passed the policy; also checks the confirmation field.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(password1: &str, password2: &str, username: &str) -> Result<Self, Invalid> {
        let problems = password_problems(password1, username);
        if !problems.is_empty() {
            return Err(Invalid::new("password1", problems.join(" ")));
        }
        if password1 != password2 {
            return Err(Invalid::new(
                "password2",
                "The two password fields didn't match.",
            ));
        }
        Ok(NewPassword(password1.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Like Django's UserAttributeSimilarityValidator (max similarity 0.7).
fn too_similar(password: &str, username: &str) -> bool {
    if username.chars().count() < USERNAME_MIN || password.is_empty() {
        return false;
    }
    password.contains(username)
        || username.contains(password)
        || strsim::normalized_levenshtein(password, username) >= 0.7
}

/// Django's list of 20,000 common passwords (lower-case), from django/contrib/auth.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("auth/common-passwords.txt").lines().collect());

/// A message body: trimmed, 1-4000 characters, line breaks kept, other control characters
/// refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let body = raw.replace("\r\n", "\n");
        let body = body.trim();
        let len = body.chars().count();
        if len == 0 {
            return Err(Invalid::new("body", "Write a message first."));
        }
        if len > BODY_MAX {
            return Err(Invalid::new(
                "body",
                format!("A message can have at most {BODY_MAX} characters (this one has {len})."),
            ));
        }
        if has_control(body, &['\n', '\t']) {
            return Err(Invalid::new(
                "body",
                "The message contains control characters.",
            ));
        }
        Ok(MessageBody(body.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A group chat's title: trimmed, 1-100 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let title = raw.trim();
        let len = title.chars().count();
        if len == 0 {
            return Err(Invalid::new("title", "Give the group a title."));
        }
        if len > TITLE_MAX {
            return Err(Invalid::new(
                "title",
                format!("Use at most {TITLE_MAX} characters."),
            ));
        }
        if has_control(title, &[]) {
            return Err(Invalid::new(
                "title",
                "The title contains control characters.",
            ));
        }
        Ok(Title(title.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(Username::parse("u", "alice").is_ok());
        assert!(Username::parse("u", "a.b-c_9").is_ok());
        assert!(Username::parse("u", "zoë").is_ok());
        assert!(Username::parse("u", "al").is_err());
        assert!(Username::parse("u", &"a".repeat(33)).is_err());
        assert!(Username::parse("u", "al ice").is_err());
        assert!(Username::parse("u", "al\u{0}ice").is_err());
        assert!(Username::parse("u", "<script>").is_err());
        assert_eq!(
            Username::parse("u", "Zoe\u{0308}").map(|u| u.key()),
            Username::parse("u", "ZOË").map(|u| u.key())
        );
    }

    #[test]
    fn passwords_follow_djangos_rules() {
        assert!(password_problems("correct horse battery", "alice").is_empty());
        assert!(!password_problems("short", "alice").is_empty());
        assert!(!password_problems("1234567890123", "alice").is_empty());
        assert!(!password_problems("password", "alice").is_empty());
        assert!(!password_problems("Password1", "alice").is_empty());
        assert!(!password_problems("alice2024!", "alice").is_empty());
        assert!(!password_problems("alicia123", "alicia").is_empty());
    }

    #[test]
    fn bodies() {
        assert_eq!(
            MessageBody::parse("  hi \r\n there ").map(|b| b.0),
            Ok("hi \n there".into())
        );
        assert!(MessageBody::parse("   ").is_err());
        assert!(MessageBody::parse(&"x".repeat(4000)).is_ok());
        assert!(MessageBody::parse(&"x".repeat(4001)).is_err());
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok());
        assert!(MessageBody::parse("a\u{7}b").is_err());
    }

    #[test]
    fn emails() {
        assert!(Email::parse("e", "").is_ok());
        assert!(Email::parse("e", "a@example.com").is_ok());
        assert!(Email::parse("e", "a@b").is_err());
        assert!(Email::parse("e", "a b@example.com").is_err());
        assert!(Email::parse("e", "@example.com").is_err());
    }
}
