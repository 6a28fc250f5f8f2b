//! Random tokens, their hashes and constant-time comparison.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes from the OS generator, as URL-safe base64.
pub fn random_base64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A 256-bit key for Rocket's private cookies, in the padded base64 Rocket reads.
pub fn new_secret_key() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// A 256-bit session token.
pub fn new_session_token() -> String {
    random_base64(32)
}

/// What every personal API token starts with, so that secret scanners (and people) can
/// tell one in a leaked file or log.
pub const API_TOKEN_PREFIX: &str = "kanect_";

/// What every bot key starts with.
pub const BOT_KEY_PREFIX: &str = "kanectbot_";

/// Base64 of 32 bytes, unpadded.
const KEY_CHARS: usize = 43;

/// A personal API token: the prefix and 256 random bits.
pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", random_base64(32))
}

/// A bot key: its prefix and 256 random bits.
pub fn new_bot_key() -> String {
    format!("{BOT_KEY_PREFIX}{}", random_base64(32))
}

/// Whether `presented` could be a token `new_api_token` made (no look-up needed if not).
pub fn is_api_token(presented: &str) -> bool {
    has_shape(presented, API_TOKEN_PREFIX)
}

/// Whether `presented` could be a key `new_bot_key` made.
pub fn is_bot_key(presented: &str) -> bool {
    has_shape(presented, BOT_KEY_PREFIX)
}

fn has_shape(presented: &str, prefix: &str) -> bool {
    presented.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == KEY_CHARS
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// What the database keeps of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `secret` as a page may carry it: a fresh random pad, then the secret XORed with it,
/// as base64. Each page gets different bytes for the same secret, so a compressed page
/// does not leak the token to an attacker who can reflect text into it and watch its
/// length (BREACH), the attack that otherwise rules compression out.
pub fn masked(secret: &str) -> String {
    let secret = secret.as_bytes();
    let mut out = vec![0u8; secret.len() * 2];
    let (pad, rest) = out.split_at_mut(secret.len());
    rand::rngs::OsRng.fill_bytes(pad);
    for ((byte, p), s) in rest.iter_mut().zip(pad.iter()).zip(secret) {
        *byte = p ^ s;
    }
    URL_SAFE_NO_PAD.encode(out)
}

/// `true` when `presented` is `secret`, masked (as pages carry it) or as it is.
pub fn same_masked(presented: &str, secret: &str) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(presented) else {
        return same(presented, secret);
    };
    if bytes.len() != secret.len() * 2 {
        return same(presented, secret);
    }
    let (pad, rest) = bytes.split_at(secret.len());
    let unmasked: Vec<u8> = pad.iter().zip(rest).map(|(p, r)| p ^ r).collect();
    unmasked.ct_eq(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_tokens_and_bot_keys_have_a_shape_of_their_own() {
        let token = new_api_token();
        assert!(token.starts_with("kanect_") && is_api_token(&token));
        assert!(!is_bot_key(&token));
        let key = new_bot_key();
        assert!(is_bot_key(&key) && !is_api_token(&key));
        assert!(!is_api_token("kanect_short"));
        assert!(!is_api_token(&format!("{token}x")));
        assert!(!is_api_token(&token.replace('_', "!")));
        assert!(!is_api_token(""));
    }

    #[test]
    fn a_masked_token_differs_each_time_and_still_matches() {
        let secret = random_base64(32);
        let (one, two) = (masked(&secret), masked(&secret));
        assert_ne!(one, two, "every page gets its own bytes");
        assert!(!one.contains(&secret));
        assert!(same_masked(&one, &secret) && same_masked(&two, &secret));
        assert!(same_masked(&secret, &secret), "the bare token still works");
        let other = random_base64(32);
        assert!(!same_masked(&masked(&other), &secret));
        assert!(!same_masked("", &secret));
        assert!(!same_masked(&one[..one.len() - 2], &secret));
        assert!(!same_masked("not base64 at all!", &secret));
    }
}
