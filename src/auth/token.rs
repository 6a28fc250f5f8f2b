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
