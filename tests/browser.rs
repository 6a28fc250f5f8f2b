//! Kanect in a real, headless Chromium driven over WebDriver: what only a browser can
//! prove (the JS runs under the CSP, a message typed in one window shows in another,
//! the admin forms submit). Needs `chromium` and `chromedriver` (Debian: `apt-get install
//! chromium chromium-driver`): where they are missing (or with KANECT_SKIP_BROWSER=1)
//! these tests pass after one line saying they were skipped, unless
//! KANECT_REQUIRE_BROWSER=1 (CI) makes that a failure. Screenshots go to
//! target/tmp/screenshots/, and to docs/screenshots/ with KANECT_UPDATE_SCREENSHOTS=1.

mod driver;
mod web;
mod accounts;
mod chat;
mod admin;
mod phone;
mod gestures;
mod messages;
mod mentions;
mod receipts;
mod typing;
mod groups;
mod drafts;
mod live;
