//! Who is asking: passwords, sessions, CSRF tokens and the sign-up / sign-in pages.

pub mod account;
pub mod api_tokens;
pub mod cache;
pub mod client;
pub mod cookies;
pub mod csrf;
pub mod device;
pub mod invites;
pub mod join;
pub mod pages;
pub mod password;
pub mod session;
pub mod setup;
pub mod strength;
pub mod throttle;
pub mod token;

pub use client::Client;
pub use csrf::{Csrf, CsrfForm, CsrfToken, SignInForm};
pub use session::User;
