//! What a person types into search, read as words and phrases, written out for each
//! database's full-text engine, and the matches in a found message marked for the reader.
//!
//! Words are runs of letters and digits, as both indexes split them (SQLite's unicode61
//! tokenizer; PostgreSQL's parser after `kanect_search_words` turns punctuation into
//! spaces). Only those words ever reach a query: quoted for FTS5, as plain text for
//! PostgreSQL, so nothing a person types is read as query syntax: `"`, `*`, `NEAR`, `AND`,
//! `-` or `:` are punctuation or words.

use serde::Serialize;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// The longest query, in characters.
pub const MAX_CHARS: usize = 200;

/// A search as the indexes take it: every term must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

/// One word, or several that must follow each other (a phrase).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    words: Vec<String>,
    /// The last word may be the start of a longer one.
    prefix: bool,
}

/// Why a query cannot be searched for, in the words the person sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsearchable {
    #[error("Type a word to search for.")]
    NoWords,
    #[error("Search for at most {MAX_CHARS} characters.")]
    TooLong,
}

/// A prefix of one letter would match a large share of every word; it is matched as a
/// whole word until a second letter is typed.
const MIN_PREFIX_CHARS: usize = 2;

impl Query {
    /// Reads `text`: words must all match, `"quoted phrases"` as phrases (an unclosed
    /// quote runs to the end), the last word as a prefix unless it closes a phrase.
    /// Words joined by punctuation (`foo-bar`, `e.g`) are a phrase of their own.
    pub fn parse(text: &str) -> Result<Query, Unsearchable> {
        if text.chars().count() > MAX_CHARS {
            return Err(Unsearchable::TooLong);
        }
        let text: String = text.nfc().collect();
        let mut terms = Vec::new();
        let mut quoted = false;
        let mut last_open = true;
        for (i, segment) in text.split('"').enumerate() {
            quoted = i % 2 == 1;
            let chunks: Vec<&str> = if quoted {
                vec![segment]
            } else {
                segment.split_whitespace().collect()
            };
            for chunk in chunks {
                let words: Vec<String> = words(chunk).map(|(_, w)| w.to_owned()).collect();
                if !words.is_empty() {
                    terms.push(Term {
                        words,
                        prefix: false,
                    });
                    last_open = !quoted;
                }
            }
        }
        // `split` ends inside quotes when they were left open: that phrase is still
        // being typed.
        let open = last_open || quoted;
        let Some(last) = terms.last_mut() else {
            return Err(Unsearchable::NoWords);
        };
        let long_enough = last
            .words
            .last()
            .is_some_and(|w| w.chars().count() >= MIN_PREFIX_CHARS);
        last.prefix = open && long_enough;
        Ok(Query { terms })
    }

    /// An FTS5 `MATCH` expression: `"one" "two three" "fou"*`.
    pub fn fts5(&self) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|term| {
                let star = if term.prefix { "*" } else { "" };
                format!("\"{}\"{star}", term.words.join(" "))
            })
            .collect();
        terms.join(" ")
    }

    /// The terms as PostgreSQL's `kanect_search_query` takes them, a JSON array of plain
    /// text: `["one", "two three", "fou*"]` (the database folds and quotes them).
    pub fn terms_json(&self) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|term| {
                let star = if term.prefix { "*" } else { "" };
                format!("{}{star}", term.words.join(" "))
            })
            .collect();
        serde_json::Value::from(terms).to_string()
    }

    /// `body` cut into parts, the words that match marked, for showing a result.
    pub fn highlight(&self, body: &str) -> Vec<Part> {
        let whole: Vec<String> = self
            .terms
            .iter()
            .flat_map(|t| &t.words)
            .map(|w| fold(w))
            .collect();
        let prefixes: Vec<String> = self
            .terms
            .iter()
            .filter(|t| t.prefix)
            .filter_map(|t| t.words.last())
            .map(|w| fold(w))
            .collect();
        let matches = |word: &str| {
            let word = fold(word);
            whole.contains(&word) || prefixes.iter().any(|p| word.starts_with(p.as_str()))
        };
        let mut parts: Vec<Part> = Vec::new();
        let mut push = |text: &str, hit: bool| match parts.last_mut() {
            Some(part) if part.r#match == hit => part.text.push_str(text),
            _ if text.is_empty() => {}
            _ => parts.push(Part {
                text: text.to_owned(),
                r#match: hit,
            }),
        };
        let mut at = 0;
        for (start, word) in words(body) {
            push(&body[at..start], false);
            push(word, matches(word));
            at = start + word.len();
        }
        push(&body[at..], false);
        parts
    }
}

/// A piece of a found message's body; `match` says whether it is a word searched for.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub text: String,
    pub r#match: bool,
}

/// The words of `text` (runs of letters and digits) with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = rest.by_ref().find(|(_, c)| c.is_alphanumeric())?;
        let mut end = text.len();
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                end = i;
                break;
            }
            rest.next();
        }
        Some((start, &text[start..end]))
    })
}

/// A word as the indexes compare it: lower case, without accents.
fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fts(q: &str) -> String {
        Query::parse(q).map(|q| q.fts5()).unwrap_or_default()
    }

    fn pg(q: &str) -> String {
        Query::parse(q).map(|q| q.terms_json()).unwrap_or_default()
    }

    #[test]
    fn words_all_match_and_the_last_is_a_prefix() {
        assert_eq!(fts("deploy Friday"), "\"deploy\" \"Friday\"*");
        assert_eq!(pg("deploy Friday"), r#"["deploy","Friday*"]"#);
    }

    #[test]
    fn quoted_phrases_match_as_phrases_and_a_closed_one_is_not_a_prefix() {
        assert_eq!(fts("\"release notes\" v2"), "\"release notes\" \"v2\"*");
        assert_eq!(fts("v2 \"release notes\""), "\"v2\" \"release notes\"");
        assert_eq!(pg("\"release notes\""), r#"["release notes"]"#);
        // Still being typed.
        assert_eq!(fts("\"release no"), "\"release no\"*");
    }

    #[test]
    fn words_joined_by_punctuation_are_a_phrase() {
        assert_eq!(fts("foo-bar"), "\"foo bar\"*");
        assert_eq!(pg("alice@example.com"), r#"["alice example com*"]"#);
    }

    #[test]
    fn a_one_letter_last_word_is_a_whole_word() {
        assert_eq!(fts("plan b"), "\"plan\" \"b\"");
    }

    #[test]
    fn query_syntax_is_searched_as_text() {
        for (typed, fts5) in [
            ("NEAR(a b)", "\"NEAR a\" \"b\""),
            ("a AND b OR c", "\"a\" \"AND\" \"b\" \"OR\" \"c\""),
            ("-foo body:bar", "\"foo\" \"body bar\"*"),
            ("foo* (bar)", "\"foo\" \"bar\"*"),
            ("\"\"\"x", "\"x\""),
            (
                "'; DROP TABLE messages; --",
                "\"DROP\" \"TABLE\" \"messages\"*",
            ),
            ("x:* & !y | <->", "\"x\" \"y\""),
        ] {
            assert_eq!(fts(typed), fts5, "{typed}");
        }
        assert_eq!(pg("it's"), r#"["it s"]"#);
    }

    #[test]
    fn nothing_to_search_for_is_refused() {
        for q in ["", "   ", "?!", "\"\"", "*", "🎉"] {
            assert_eq!(Query::parse(q), Err(Unsearchable::NoWords), "{q:?}");
        }
        assert_eq!(
            Query::parse(&"a".repeat(MAX_CHARS + 1)),
            Err(Unsearchable::TooLong)
        );
        assert!(Query::parse(&"é".repeat(MAX_CHARS)).is_ok());
    }

    #[test]
    fn highlights_fold_case_and_accents_and_keep_the_text() {
        let q = Query::parse("eleve CAF").unwrap_or_else(|e| panic!("{e}"));
        let body = "L'Élève boit un café, puis un Café.";
        let parts = q.highlight(body);
        let text: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(text, body);
        let marked: Vec<&str> = parts
            .iter()
            .filter(|p| p.r#match)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(marked, ["Élève", "café", "Café"]);
        assert_eq!(
            parts[0],
            Part {
                text: "L'".into(),
                r#match: false
            }
        );
    }

    #[test]
    fn a_prefix_marks_only_words_that_start_with_it() {
        let q = Query::parse("dep").unwrap_or_else(|e| panic!("{e}"));
        let marked: Vec<String> = q
            .highlight("deploy, redeploy, dependency")
            .into_iter()
            .filter(|p| p.r#match)
            .map(|p| p.text)
            .collect();
        assert_eq!(marked, ["deploy", "dependency"]);
    }

    #[test]
    fn an_empty_body_has_no_parts() {
        let q = Query::parse("x").unwrap_or_else(|e| panic!("{e}"));
        assert!(q.highlight("").is_empty());
    }
}
