//! Every rule about user input, in one place. Each validated input is a type, so a value
//! that reached the data layer has passed these checks.

use std::collections::HashSet;
use std::sync::LazyLock;

use precis_profiles::precis_core;
use precis_profiles::precis_core::profile::PrecisFastInvocation;
use precis_profiles::{UsernameCaseMapped, UsernameCasePreserved};
use unicode_normalization::UnicodeNormalization;
use unicode_security::{GeneralSecurityProfile, MixedScript};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;
pub const BODY_MAX: usize = 4000;
pub const TITLE_MAX: usize = 80;
pub const DISPLAY_NAME_MAX: usize = 64;

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

/// A username: RFC 8265 (PRECIS UsernameCasePreserved: width-mapped, NFC, no symbols,
/// spaces or invisible characters), then the contract's 3-32 letters, digits, `_`, `.` or
/// `-`, in one script (UTS #39), so that no name can pass for another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    name: String,
    key: String,
}

impl Username {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let typed = raw.trim();
        if typed.is_empty() {
            return Err(Invalid::new(field, "Enter a username."));
        }
        let name = UsernameCasePreserved::enforce(typed)
            .map_err(|e| Invalid::new(field, precis_problem(&e)))?
            .into_owned();
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(Invalid::new(field, USERNAME_CHARACTERS));
        }
        // UTS #39's General Security Profile: small capitals, letterlike technical symbols
        // and historic scripts pass for everyday letters ("ᴀlice").
        if let Some(c) = name.chars().find(|c| !c.identifier_allowed()) {
            return Err(Invalid::new(
                field,
                format!(
                    "Use the everyday letters of an alphabet (“{c}”, U+{:04X}, is a technical \
                     or historic character).",
                    c as u32
                ),
            ));
        }
        let len = name.chars().count();
        if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
            return Err(Invalid::new(
                field,
                format!("Use {USERNAME_MIN} to {USERNAME_MAX} characters."),
            ));
        }
        if !name.as_str().is_single_script() {
            return Err(Invalid::new(
                field,
                "Use the letters of one alphabet only: a name that mixes scripts (Latin and \
                 Cyrillic, say) can pass for someone else's.",
            ));
        }
        let key = UsernameCaseMapped::enforce(name.as_str())
            .map_err(|e| Invalid::new(field, precis_problem(&e)))?
            .into_owned();
        Ok(Username { name, key })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The form that finds the person: "Alice", "ALICE" and fullwidth "ａｌｉｃｅ" are one.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The form that decides uniqueness: names that look alike share it.
    pub fn look_alike(&self) -> String {
        look_alike_key(&self.key)
    }
}

/// Why a valid name still cannot be had: its skeleton is another person's.
pub const USERNAME_LOOKS_LIKE: &str = "This username looks like one that is already taken \
     (the same letters from another alphabet, say): choose another.";

const USERNAME_CHARACTERS: &str = "Use only letters, digits and the characters _ . -";

/// What to tell a person whose name PRECIS refused: the character at fault, shown only
/// when it is visible (an invisible or direction-changing one would garble the message).
fn precis_problem(error: &precis_core::Error) -> String {
    match error {
        precis_core::Error::BadCodepoint(info) => {
            let shown = char::from_u32(info.cp)
                .filter(|c| !is_invisible(*c))
                .map(|c| format!("“{c}”, "))
                .unwrap_or_default();
            format!(
                "{USERNAME_CHARACTERS} ({shown}U+{:04X}, is not allowed).",
                info.cp
            )
        }
        // The bidi rule: a right-to-left name that would display in a misleading order.
        precis_core::Error::Invalid => {
            "Start a right-to-left name with a letter and keep it in one direction.".to_owned()
        }
        precis_core::Error::Unexpected(_) => USERNAME_CHARACTERS.to_owned(),
    }
}

/// The key of what a person typed as a username, for look-ups (sign-in, `/u/<name>`,
/// chat members) and for uniqueness: RFC 8265 UsernameCaseMapped, so case and width do
/// not matter. Text PRECIS refuses gets the key of the rule before it (NFC, lower case),
/// which only names from before that rule can have.
pub fn username_key(typed: &str) -> String {
    let typed = typed.trim();
    match UsernameCaseMapped::enforce(typed) {
        Ok(key) => key.into_owned(),
        Err(_) => typed.nfc().collect::<String>().to_lowercase(),
    }
}

/// The UTS #39 confusable skeleton of a username key, folded to lower case and taken
/// again, as keys are lower case and a skeleton may use a capital as the prototype of a
/// small letter (Greek θ becomes O̵): names that look alike share it.
pub fn look_alike_key(key: &str) -> String {
    let skeleton: String = unicode_security::skeleton(key).collect();
    unicode_security::skeleton(&skeleton.to_lowercase()).collect()
}

/// Characters that show nothing by themselves: white space and control characters, the
/// default-ignorable ones (zero-width and bidi controls, joiners, variation selectors,
/// the Hangul fillers such as U+3164), and the blank Braille pattern, which Unicode gives
/// no property for.
pub fn is_invisible(c: char) -> bool {
    const IGNORABLE: icu_properties::CodePointSetDataBorrowed<'static> =
        icu_properties::CodePointSetData::new::<icu_properties::props::DefaultIgnorableCodePoint>();
    c.is_whitespace() || c.is_control() || IGNORABLE.contains(c) || c == '\u{2800}'
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
/// not too close to the username; then zxcvbn's estimate of how easily it is guessed.
/// Returns every rule broken, as Django does.
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
    // zxcvbn's advice would only repeat a rule already broken ("add another word").
    if problems.is_empty() {
        let strength = Strength::of(password, &[username]);
        if strength.score < STRENGTH_MIN {
            problems.push(strength.advice());
        }
    }
    problems
}

/// The lowest zxcvbn score a password may have: 2 is "somewhat guessable" (about 10^8
/// guesses), enough against online guessing behind the sign-in throttle.
pub const STRENGTH_MIN: u8 = 2;

/// zxcvbn scores only this many characters: its matching grows with the length, and a
/// password longer than this is not weaker for what follows.
const STRENGTH_CHARS: usize = 100;

/// zxcvbn's estimate of a password: a score from 0 (guessed at once) to 4, and its own
/// feedback (a warning and suggestions) when the score is low.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strength {
    pub score: u8,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

impl Strength {
    /// `inputs` are what the person typed elsewhere (username, email): a password built
    /// from them is weak.
    pub fn of(password: &str, inputs: &[&str]) -> Strength {
        let end = password
            .char_indices()
            .nth(STRENGTH_CHARS)
            .map_or(password.len(), |(i, _)| i);
        let inputs: Vec<&str> = inputs.iter().copied().filter(|i| !i.is_empty()).collect();
        let entropy = zxcvbn::zxcvbn(&password[..end], &inputs);
        let feedback = entropy.feedback();
        Strength {
            score: u8::from(entropy.score()),
            warning: feedback.and_then(|f| f.warning()).map(|w| w.to_string()),
            suggestions: feedback
                .map(|f| f.suggestions().iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
        }
    }

    /// The field error for a password too easy to guess: zxcvbn's own words.
    pub fn advice(&self) -> String {
        let mut advice = vec![self
            .warning
            .clone()
            .unwrap_or_else(|| "This password is too easy to guess.".to_owned())];
        advice.extend(self.suggestions.iter().cloned());
        advice.join(" ")
    }
}

/// A new password that passed the policy; also checks the confirmation field.
pub struct NewPassword(String);

impl NewPassword {
    /// Every problem at once: the policy's on `password1`, a mismatch on `password2`.
    pub fn parse(password1: &str, password2: &str, username: &str) -> Result<Self, Vec<Invalid>> {
        let mut invalid = Vec::new();
        let problems = password_problems(password1, username);
        if !problems.is_empty() {
            invalid.push(Invalid::new("password1", problems.join(" ")));
        }
        if password1 != password2 {
            invalid.push(Invalid::new(
                "password2",
                "The two password fields didn't match.",
            ));
        }
        if invalid.is_empty() {
            Ok(NewPassword(password1.to_owned()))
        } else {
            Err(invalid)
        }
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
        if body.chars().all(is_invisible) {
            return Err(Invalid::new("body", "Write a message first."));
        }
        Ok(MessageBody(body.to_owned()))
    }

    /// The words of a message that carries files: nothing at all is allowed then.
    pub fn parse_beside_files(raw: &str) -> Result<Self, Invalid> {
        if raw.chars().all(is_invisible) {
            return Ok(MessageBody(String::new()));
        }
        Self::parse(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An uploaded file's name as Kanect keeps and shows it: the last part of whatever path
/// the client sent, in NFC, without control or invisible formatting characters (a
/// right-to-left override can make `exe.pdf` read as `fdp.exe`), one line, at most
/// `FILE_NAME_MAX` characters with its extension kept. Never refused: a name that is
/// nothing once cleaned becomes `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

pub const FILE_NAME_MAX: usize = 200;

impl FileName {
    pub fn clean(raw: &str) -> Self {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let name: String = last
            .nfc()
            .filter_map(|c| match c {
                ' ' => Some(' '),
                c if c.is_whitespace() => Some(' '),
                c if is_invisible(c) => None,
                c => Some(c),
            })
            .collect();
        // Windows drops trailing dots and spaces; a name of dots is a path, not a name.
        let name = name.trim_matches(' ').trim_end_matches(['.', ' ']);
        if name.is_empty() {
            return FileName("file".to_owned());
        }
        FileName(shorten(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `name` cut to `FILE_NAME_MAX` characters, keeping a short extension.
fn shorten(name: &str) -> String {
    if name.chars().count() <= FILE_NAME_MAX {
        return name.to_owned();
    }
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|ext| ext.chars().count() <= 16)
        .unwrap_or_default();
    let stem: String = name
        .chars()
        .take(FILE_NAME_MAX - extension.chars().count())
        .collect();
    format!("{stem}{extension}")
}

/// A reaction: one emoji as Unicode lists them (one extended grapheme cluster, with or
/// without its presentation selector, skin tones included), kept in its fully qualified
/// form so that "❤" and "❤️" are one reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(&'static str);

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        // The longest emoji (a family with skin tones) is well under this.
        let found = (raw.len() <= 64).then(|| emojis::get(raw)).flatten();
        match found {
            Some(emoji) => Ok(Emoji(emoji.as_str())),
            None => Err(Invalid::new("emoji", "React with one emoji.")),
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.0
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

/// A display name: trimmed, 1-64 characters, one line, something visible, and none of the
/// characters that reorder the text around them (a name could then read as another).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        short_name(
            raw,
            "display_name",
            DISPLAY_NAME_MAX,
            "Enter a name to show to others.",
        )
        .map(DisplayName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most characters of an API token's name.
pub const TOKEN_NAME_MAX: usize = 64;

/// What a person calls one of their API tokens ("CI", "laptop script"): 1-64 characters
/// of visible text, as a display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        short_name(
            raw,
            "name",
            TOKEN_NAME_MAX,
            "Name the token (what will use it?).",
        )
        .map(TokenName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A bot's webhook address: an absolute http or https URL with a host (a `file:`,
/// `javascript:` or relative address is refused).
pub fn webhook_url(raw: &str) -> Result<(), Invalid> {
    let refuse = || {
        Err(Invalid::new(
            "webhook_url",
            "Enter an http:// or https:// address.",
        ))
    };
    let Ok(url) = rocket::http::uri::Absolute::parse(raw) else {
        return refuse();
    };
    let web = ["http", "https"]
        .iter()
        .any(|scheme| url.scheme().eq_ignore_ascii_case(scheme));
    match url.authority() {
        Some(authority) if web && !authority.host().is_empty() => Ok(()),
        _ => refuse(),
    }
}

/// A one-line name that people see: trimmed, visible, no control or direction characters,
/// at most `max` characters, NFC.
fn short_name(raw: &str, field: &'static str, max: usize, empty: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.chars().all(is_invisible) {
        return Err(Invalid::new(field, empty));
    }
    if has_control(name, &[]) {
        return Err(Invalid::new(field, "The name contains control characters."));
    }
    if name.chars().any(is_bidi_control) {
        return Err(Invalid::new(
            field,
            "The name contains characters that change the direction of text.",
        ));
    }
    let len = name.chars().count();
    if len > max {
        return Err(Invalid::new(
            field,
            format!("Use at most {max} characters (this one has {len})."),
        ));
    }
    Ok(name.nfc().collect())
}

/// The explicit direction marks, embeddings, overrides and isolates of Unicode's bidi
/// algorithm: "\u{202E}gpj.exe" shows as "exe.jpg".
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_http_or_https_with_a_host() {
        for good in [
            "https://ci.example/hook",
            "http://10.0.0.2:8080/x?y=1",
            "HTTPS://a.b",
        ] {
            assert!(webhook_url(good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://a.b/",
            "javascript:alert(1)",
            "/relative",
            "https://",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(webhook_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        for bad in [
            "",
            "   ",
            "\u{200B}\u{3164}",
            "a\u{7}b",
            "line\nbreak",
            "\u{202E}gpj.exe",
        ] {
            let invalid = DisplayName::parse(bad).unwrap_err();
            assert_eq!(invalid.field, "display_name", "{bad:?}");
        }
        assert!(DisplayName::parse(&"x".repeat(65))
            .unwrap_err()
            .message
            .contains("64"));
    }

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
        assert!(Username::parse("u", "al@ce").is_err());
        assert_eq!(
            Username::parse("u", "Zoe\u{0308}").map(|u| u.key().to_owned()),
            Username::parse("u", "ZOË").map(|u| u.key().to_owned())
        );
    }

    #[test]
    fn people_from_everywhere_keep_their_names() {
        for name in [
            "zoë",
            "Łukasz",
            "田中太郎",
            "Ελένη",
            "Мария",
            "שלום",
            "محمد",
            "José-Luis",
        ] {
            let parsed = Username::parse("u", name);
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
        }
    }

    /// Each of these was accepted beside "alice" or "bob" (issue 11, finding 7).
    const LOOK_ALIKES: &[(&str, &str)] = &[
        ("\u{430}lice", "alice"),   // Cyrillic а
        ("al\u{456}ce", "alice"),   // Cyrillic і
        ("ａｌｉｃｅ", "alice"),    // fullwidth
        ("𝐚𝐥𝐢𝐜𝐞", "alice"),         // mathematical bold
        ("\u{1d00}lice", "alice"),  // small capital A
        ("al\u{131}ce", "alice"),   // dotless i
        ("b\u{3bf}b", "bob"),       // Greek omicron
        ("alice\u{3164}", "alice"), // Hangul filler: blank
        ("ALICE", "alice"),
        ("Bob", "bob"),
    ];

    #[test]
    fn a_look_alike_is_refused_or_collides_with_the_name_it_imitates() {
        for (fake, real) in LOOK_ALIKES {
            let real = Username::parse("u", real).unwrap();
            if let Ok(fake) = Username::parse("u", fake) {
                assert!(
                    fake.key() == real.key() || fake.look_alike() == real.look_alike(),
                    "{fake:?} passes for {real:?}"
                );
            }
        }
    }

    #[test]
    fn a_name_in_two_scripts_is_refused_with_a_reason() {
        let refused = Username::parse("u", "\u{430}lice").unwrap_err();
        assert!(refused.message.contains("one alphabet"), "{refused:?}");
        let refused = Username::parse("u", "alice\u{3164}").unwrap_err();
        assert!(refused.message.contains("U+3164"), "{refused:?}");
        assert!(!refused.message.contains('\u{3164}'), "{refused:?}");
    }

    #[test]
    fn the_key_of_what_was_typed_finds_the_person() {
        let alice = Username::parse("u", "Alice").unwrap();
        for typed in ["alice", " ALICE ", "ａｌｉｃｅ", "ＡＬＩＣＥ"] {
            assert_eq!(username_key(typed), alice.key(), "{typed}");
        }
        assert_ne!(username_key("\u{430}lice"), alice.key());
        // Refused by PRECIS: the old rule's key, so old accounts can still sign in.
        assert_eq!(username_key("𝐚𝐥𝐢𝐜𝐞"), "𝐚𝐥𝐢𝐜𝐞");
    }

    #[test]
    fn invisible_characters() {
        for c in [
            ' ',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{3164}',
            '\u{202E}',
            '\u{2066}',
            '\u{FE0F}',
            '\u{E0100}',
            '\u{115F}',
            '\u{FFA0}',
            '\u{2800}',
            '\u{00AD}',
            '\u{034F}',
            '\u{3000}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', '田', '❤', '\u{1F600}', '.', '\u{0301}'] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn passwords_follow_djangos_rules() {
        assert!(password_problems("correct horse battery", "alice").is_empty());
        assert!(password_problems("purple-walrus-sings-42", "alice").is_empty());
        assert!(!password_problems("short", "alice").is_empty());
        assert!(!password_problems("1234567890123", "alice").is_empty());
        assert!(!password_problems("password", "alice").is_empty());
        assert!(!password_problems("Password1", "alice").is_empty());
        assert!(!password_problems("alice2024!", "alice").is_empty());
        assert!(!password_problems("alicia123", "alicia").is_empty());
    }

    #[test]
    fn a_password_easy_to_guess_is_refused_in_zxcvbns_own_words() {
        // Past Django's rules (long, not listed, not numeric) but guessed quickly.
        for weak in [
            "qwertyuiop123",
            "aaaaaaaaaaaa",
            "abcdefgh1234",
            "Password2024",
        ] {
            let problems = password_problems(weak, "alice");
            assert_eq!(problems.len(), 1, "{weak}: {problems:?}");
            assert!(
                Strength::of(weak, &["alice"]).score < STRENGTH_MIN,
                "{weak}"
            );
        }
        let strength = Strength::of("qwertyuiop123", &[]);
        assert!(strength
            .advice()
            .contains(strength.warning.as_deref().unwrap_or("too easy")));
        assert!(!strength.suggestions.is_empty(), "{strength:?}");
        // The person's own email makes a password built from it weak.
        assert!(Strength::of("alice.smith@example.com", &["alice.smith@example.com"]).score < 2);
        // Long passwords are scored on their start and stay cheap to check.
        let long = format!("kestrel-violin-marble-quartz-{}", "a".repeat(5000));
        assert!(Strength::of(&long, &[]).score >= STRENGTH_MIN);
    }

    #[test]
    fn a_new_password_reports_the_policy_and_the_mismatch_together() {
        let fields = |one: &str, two: &str| -> Vec<&'static str> {
            match NewPassword::parse(one, two, "alice") {
                Ok(_) => Vec::new(),
                Err(invalid) => invalid.iter().map(|i| i.field).collect(),
            }
        };
        assert_eq!(fields("short", "shorter"), ["password1", "password2"]);
        assert_eq!(fields("short", "short"), ["password1"]);
        assert_eq!(
            fields("correct horse battery", "correct horse"),
            ["password2"]
        );
        assert!(fields("correct horse battery", "correct horse battery").is_empty());
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
    fn a_body_of_only_invisible_characters_is_empty() {
        for body in [
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}\u{200E}\u{200F}",
            "\u{2060}\u{FEFF}",
            "\u{3164}\u{3164}",
            "\u{202E}\u{202C}\u{2067}\u{2069}",
            "\u{FE0F}\u{FE0E}",
            " \u{200B} \n\u{2800}",
        ] {
            assert_eq!(
                MessageBody::parse(body).map_err(|e| e.message),
                Err("Write a message first.".to_owned()),
                "{body:?}"
            );
        }
        for body in [
            "👩\u{200D}💻",
            "❤\u{FE0F}",
            "\u{202E}olleh",
            "hi\u{200B}",
            "e\u{301}",
        ] {
            assert!(MessageBody::parse(body).is_ok(), "{body:?}");
        }
    }

    #[test]
    fn emoji_are_one_each_in_their_qualified_form() {
        assert_eq!(Emoji::parse("👍").map(|e| e.as_str()), Ok("👍"));
        assert_eq!(Emoji::parse("❤"), Emoji::parse("❤\u{fe0f}"));
        assert!(Emoji::parse("👍🏽").is_ok());
        assert!(Emoji::parse("👨\u{200d}👩\u{200d}👧").is_ok());
        for bad in ["", "a", "👍👍", " 👍", "<b>", &"👍".repeat(40)] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
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
