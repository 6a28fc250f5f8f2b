//! Bot keys kept sealed: a webhook's signature is an HMAC with the bot key, so the server
//! must be able to read the key back, yet a copy of the database (a backup, a dump) must
//! not give it away. Each key is encrypted with AES-256-GCM under a key that HKDF derives
//! from the server's `secret_key`, bound to the bot's id. A new `secret_key` makes every
//! sealed key unreadable: those bots need a new key before their webhooks are signed again.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

const NONCE: usize = 12;

/// The sealing key, as Rocket manages it (`&State<KeySeal>`).
pub struct KeySeal(Aes256Gcm);

impl KeySeal {
    /// The seal for the server whose `secret_key` this is.
    pub fn new(secret_key: &str) -> KeySeal {
        let mut key = [0u8; 32];
        // 32 bytes are far below HKDF-SHA256's limit (255 × 32): expanding cannot fail.
        let _ = Hkdf::<Sha256>::new(None, secret_key.as_bytes())
            .expand(b"kanect bot key seal v1", &mut key);
        KeySeal(Aes256Gcm::new(&key.into()))
    }

    /// `bot_key` sealed for bot `bot`: a fresh nonce, then the ciphertext and its tag.
    pub fn seal(&self, bot: i64, bot_key: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: bot_key.as_bytes(),
            aad: &bot.to_be_bytes(),
        };
        // Encrypting into a Vec fails only past AES-GCM's 64 GiB limit.
        let sealed = self.0.encrypt(&nonce, payload).unwrap_or_default();
        [nonce.as_slice(), &sealed].concat()
    }

    /// The key `seal` sealed for `bot`, or `None` if it was sealed under another
    /// `secret_key`, for another bot, or is damaged.
    pub fn open(&self, bot: i64, sealed: &[u8]) -> Option<String> {
        if sealed.len() <= NONCE {
            return None;
        }
        let (nonce, sealed) = sealed.split_at(NONCE);
        let payload = Payload {
            msg: sealed,
            aad: &bot.to_be_bytes(),
        };
        let key = self.0.decrypt(Nonce::from_slice(nonce), payload).ok()?;
        String::from_utf8(key).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_for_its_bot_under_its_secret_only() {
        let seal = KeySeal::new("secret one");
        let sealed = seal.seal(7, "kanectbot_abc");
        assert!(!sealed
            .windows(b"kanectbot_abc".len())
            .any(|w| w == b"kanectbot_abc"));
        assert_eq!(seal.open(7, &sealed).as_deref(), Some("kanectbot_abc"));
        assert_eq!(seal.open(8, &sealed), None, "another bot's row");
        assert_eq!(KeySeal::new("secret two").open(7, &sealed), None);
        let mut damaged = sealed.clone();
        if let Some(last) = damaged.last_mut() {
            *last ^= 1;
        }
        assert_eq!(seal.open(7, &damaged), None);
        assert_eq!(seal.open(7, b"short"), None);
        assert_ne!(
            seal.seal(7, "kanectbot_abc"),
            sealed,
            "a fresh nonce each time"
        );
    }
}
