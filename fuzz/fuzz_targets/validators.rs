//! Every validator of user input, with the properties the rest of the app relies on:
//! nothing panics, what passes obeys the rule it was checked against, and checking a
//! value that passed gives the same value back (so storing and re-reading is stable).
#![no_main]

use kanect::auth::pages::safe_next;
use kanect::validate::{
    password_problems, username_key, Email, MessageBody, NewPassword, Title, Username, BODY_MAX,
    EMAIL_MAX, TITLE_MAX, USERNAME_MAX, USERNAME_MIN,
};
use libfuzzer_sys::fuzz_target;
use unicode_normalization::is_nfc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Up to three fields, split at NUL, for the validators that take several.
    let mut parts = text.splitn(3, '\0');
    let a = parts.next().unwrap_or_default();
    let b = parts.next().unwrap_or_default();
    let c = parts.next().unwrap_or_default();

    if let Ok(name) = Username::parse("username", a) {
        let s = name.as_str();
        let len = s.chars().count();
        assert!((USERNAME_MIN..=USERNAME_MAX).contains(&len), "{s:?}");
        assert!(
            s.chars().all(|c| c.is_alphanumeric() || "_.-".contains(c)),
            "{s:?}"
        );
        assert!(is_nfc(s), "{s:?} is NFC");
        assert_eq!(
            Username::parse("username", s).as_ref(),
            Ok(&name),
            "idempotent"
        );
        // The look-up key of the stored name is the key of what was typed.
        assert_eq!(name.key(), username_key(a));
        assert_eq!(username_key(&name.key()), name.key(), "key of key {s:?}");
    }

    if let Ok(email) = Email::parse("email", a) {
        let s = email.as_str();
        assert!(s.len() <= EMAIL_MAX);
        assert!(
            !s.chars().any(|c| c.is_whitespace() || c.is_control()),
            "{s:?}"
        );
        assert!(s.is_empty() || s.contains('@'));
        assert_eq!(Email::parse("email", s).as_ref(), Ok(&email), "idempotent");
    }

    if let Ok(body) = MessageBody::parse(a) {
        let s = body.as_str();
        let len = s.chars().count();
        assert!((1..=BODY_MAX).contains(&len));
        assert_eq!(s.trim(), s, "trimmed");
        assert!(
            !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{s:?}"
        );
        assert_eq!(MessageBody::parse(s).as_ref(), Ok(&body), "idempotent");
    }

    if let Ok(title) = Title::parse(a) {
        let s = title.as_str();
        let len = s.chars().count();
        assert!((1..=TITLE_MAX).contains(&len));
        assert_eq!(s.trim(), s, "trimmed");
        assert!(!s.chars().any(char::is_control), "{s:?}");
        assert_eq!(Title::parse(s).as_ref(), Ok(&title), "idempotent");
    }

    let problems = password_problems(a, c);
    match NewPassword::parse(a, b, c) {
        Ok(password) => {
            assert!(problems.is_empty());
            assert_eq!(password.as_str(), a);
            assert_eq!(a, b);
        }
        Err(invalid) => assert!(invalid.field == "password1" || invalid.field == "password2"),
    }

    // `next` after sign-in: always a path on this site.
    let next = safe_next(Some(a));
    assert!(next.starts_with('/'), "{next:?}");
    assert!(!next.starts_with("//"), "{next:?}");
    assert!(!next.contains('\\'), "{next:?}");
    assert!(!next.chars().any(char::is_control), "{next:?}");
    // ... and one a redirect accepts: never a 500 after the right password.
    assert!(rocket::http::uri::Reference::parse(&next).is_ok(), "{next:?}");
});
