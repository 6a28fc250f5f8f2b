//! `@username` mentions in a message body. Which of them name a member of the chat is the
//! data layer's to decide (`db::messages`); this only reads the text.

use crate::validate::username_key;

/// What a body mentions: username keys (as `validate::username_key` makes them), and
/// whether it says `@all` (everyone in a group).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentioned {
    pub keys: Vec<String>,
    pub all: bool,
}

impl Mentioned {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && !self.all
    }
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Every `@name` that starts a word: not inside an e-mail address (`bob@example.com`),
/// and without sentence punctuation after it (`@bob.` and `@bob-` mention bob).
pub fn parse(body: &str) -> Mentioned {
    let mut found = Mentioned::default();
    let mut previous: Option<char> = None;
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts_word = previous.is_none_or(|p| !name_char(p) && p != '@');
        previous = Some(c);
        if c != '@' || !starts_word {
            continue;
        }
        let start = at + 1;
        let mut end = start;
        while let Some(&(i, n)) = chars.peek() {
            if !name_char(n) {
                break;
            }
            end = i + n.len_utf8();
            previous = Some(n);
            chars.next();
        }
        let name = body[start..end].trim_end_matches(['.', '-']);
        if name.is_empty() {
            continue;
        }
        let key = username_key(name);
        if key == "all" {
            found.all = true;
        }
        if !found.keys.contains(&key) {
            found.keys.push(key);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(body: &str) -> Vec<String> {
        parse(body).keys
    }

    #[test]
    fn names_after_an_at_sign_that_starts_a_word() {
        assert_eq!(keys("hi @Bob and @carol!"), ["bob", "carol"]);
        assert_eq!(keys("@bob."), ["bob"]);
        assert_eq!(keys("(@bob), @bob-"), ["bob"]);
        assert_eq!(keys("@zoë: look"), ["zoë"]);
        assert_eq!(keys("@j.doe_2 please"), ["j.doe_2"]);
    }

    #[test]
    fn not_addresses_or_lone_signs() {
        assert!(keys("mail bob@example.com").is_empty());
        assert!(keys("@ @@ @. a@").is_empty());
        assert_eq!(keys("@@bob"), Vec::<String>::new());
    }

    #[test]
    fn all_is_everyone() {
        let found = parse("@ALL standup in 5");
        assert!(found.all);
        assert!(!parse("hello all").all);
        assert!(parse("nobody").is_empty());
    }
}
