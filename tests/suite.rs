//! The integration tests, one binary: a module per feature (each was a test crate of its
//! own, linked against the whole app once per crate). `cargo test` runs them all; one
//! feature: `cargo test --test suite events::`. Tests that need Chromium skip where it is
//! missing (see `optional`).

mod common;
mod optional;
mod process;

mod accounts;
mod admin;
mod admin_files;
mod appliance;
mod assets;
mod bots;
mod browser;
mod chats_api;
mod cli;
mod concurrent_sends;
mod connections;
mod disk_full;
mod durability;
mod events;
mod export;
mod files;
mod hostile;
mod hostile_admin;
mod hostile_props;
mod hostile_uploads;
mod instances;
mod invites;
mod last_seen;
mod lifecycle;
mod messages_api;
mod monitoring;
mod notify;
mod onboarding;
mod openapi;
mod pages;
mod profiles;
mod push;
mod search;
mod security;
mod sessions;
mod sign_in_load;
mod throttling;
mod tokens;
mod updates;
mod webhooks;
