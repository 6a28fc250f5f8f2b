//! Kanect in a real, headless Chromium driven over WebDriver: what only a browser can
//! prove (the JS runs under the CSP, a message typed in one window shows in another,
//! the admin forms submit). Needs `chromium` and `chromedriver` (Debian: `apt-get install
//! chromium chromium-driver`): where they are missing (or with KANECT_SKIP_BROWSER=1)
//! these tests pass after one line saying they were skipped, unless
//! KANECT_REQUIRE_BROWSER=1 (CI) makes that a failure. Screenshots go to
//! target/tmp/screenshots/, and to docs/screenshots/ with KANECT_UPDATE_SCREENSHOTS=1.

mod a11y;
mod accounts;
mod admin;
mod admin_layout;
mod axe;
mod chat;
mod connection;
mod drafts;
mod driver;
mod export;
mod file_gestures;
mod files;
mod gestures;
mod groups;
mod install;
mod integrations;
mod lighthouse;
mod live;
mod loading;
mod mentions;
mod message_window;
mod messages;
mod notifications;
mod onboarding;
mod phone;
mod profile;
mod receipts;
mod search;
mod sidebar;
mod typing;
mod web;
