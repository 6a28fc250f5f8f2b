//! Tests that need more than Rust (Chromium and chromedriver; a PostgreSQL server) skip
//! where it is missing, with one line saying what to install, so that `cargo test` passes
//! on a machine with only Rust. Where skipping would hide a failure (CI), a variable such as
//! `KANECT_REQUIRE_BROWSER=1` turns the skip into a failure.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;

/// `found` when it is there. When it is not (`Err` says what is missing and how to install
/// it): a panic if the variable `require` is `1`; else `None`, after one line on stderr
/// (once per test binary, however many of `suite`'s tests skip).
pub fn or_skip<T>(found: Result<T, String>, suite: &str, require: &str) -> Option<T> {
    let required = std::env::var(require).is_ok_and(|value| value == "1");
    match decide(found, suite, require, required) {
        Ok(found) => Some(found),
        Err(line) => {
            say_once(line);
            None
        }
    }
}

/// `Err` is the line a skip prints.
fn decide<T>(
    found: Result<T, String>,
    suite: &str,
    require: &str,
    required: bool,
) -> Result<T, String> {
    match found {
        Ok(found) => Ok(found),
        Err(missing) if required => panic!("{suite} cannot run: {missing} ({require}=1)"),
        Err(missing) => Err(format!(
            "skipped {suite}: {missing} (set {require}=1 to fail instead)"
        )),
    }
}

/// Straight to stderr: the test harness captures `eprintln!` of tests that pass, and this
/// line is for whoever ran `cargo test`.
fn say_once(line: String) {
    static SAID: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut said = SAID.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if said.insert(line.clone()) {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

#[test]
fn what_is_there_is_used() {
    assert_eq!(decide::<u8>(Ok(7), "suite", "REQUIRE", true), Ok(7));
}

#[test]
fn what_is_missing_skips_with_a_line_saying_what_to_install() {
    let line = decide::<u8>(
        Err("no tool: install it".into()),
        "the suite",
        "REQUIRE",
        false,
    )
    .unwrap_err();
    assert_eq!(
        line,
        "skipped the suite: no tool: install it (set REQUIRE=1 to fail instead)"
    );
}

#[test]
#[should_panic(expected = "the suite cannot run: no tool: install it (REQUIRE=1)")]
fn what_is_missing_fails_where_it_is_required() {
    let _ = decide::<u8>(
        Err("no tool: install it".into()),
        "the suite",
        "REQUIRE",
        true,
    );
}
