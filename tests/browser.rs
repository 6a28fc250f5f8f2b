//! Kanect in a real, headless Chromium driven over WebDriver: what only a browser can
//! prove (the JS runs under the CSP, a message typed in one window shows in another,
//! the admin forms submit). Needs `chromium` and `chromedriver` (Debian: `apt-get install
//! chromium chromium-driver`): where they are missing (or with KANECT_SKIP_BROWSER=1)
//! these tests pass after one line saying they were skipped, unless
//! KANECT_REQUIRE_BROWSER=1 (CI) makes that a failure. Screenshots go to
//! target/tmp/screenshots/, and to docs/screenshots/ with KANECT_UPDATE_SCREENSHOTS=1.

mod optional;
mod process;

#[path = "browser/mod.rs"]
mod web;

#[path = "browser/accounts.rs"]
mod accounts;

#[path = "browser/chat.rs"]
mod chat;

#[path = "browser/admin.rs"]
mod admin;

#[path = "browser/phone.rs"]
mod phone;

#[path = "browser/gestures.rs"]
mod gestures;

#[path = "browser/messages.rs"]
mod messages;

#[path = "browser/mentions.rs"]
mod mentions;

#[path = "browser/receipts.rs"]
mod receipts;

#[path = "browser/typing.rs"]
mod typing;

#[path = "browser/groups.rs"]
mod groups;

#[path = "browser/drafts.rs"]
mod drafts;

#[path = "browser/live.rs"]
mod live;
