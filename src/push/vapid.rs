//! The server's VAPID key pair (RFC 8292): generated on the first start and kept in
//! data_dir (mode 0600) like the secret key, so subscriptions made against its public key
//! keep working across restarts. Push services check each push's JWT against that key.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

use crate::config::{write_private, ConfigError};

/// Name of the file in `data_dir` that keeps the private key (base64url, 32 bytes).
pub const KEY_FILE: &str = "vapid_private_key";
/// How long one push's JWT is good for (RFC 8292 allows at most 24 hours).
const JWT_LIFETIME_S: i64 = 12 * 3600;
/// Who runs this server, as push services may ask (`sub`). Kanect has no operator address
/// to give, so it names itself.
const SUBJECT: &str = "mailto:kanect@localhost";

pub struct Vapid {
    key: SigningKey,
    /// The public key as browsers take it (`applicationServerKey`): the uncompressed
    /// point, base64url.
    public: String,
}

impl Vapid {
    /// The key pair kept in `data_dir`, made and kept there first if there is none.
    pub fn load_or_create(data_dir: &Path) -> Result<Vapid, ConfigError> {
        let path = data_dir.join(KEY_FILE);
        let key = if path.exists() {
            read(&path)?
        } else {
            let key = SigningKey::random(&mut rand::rngs::OsRng);
            let text = URL_SAFE_NO_PAD.encode(key.to_bytes());
            write_private(&path, &text).map_err(|source| ConfigError::Io {
                what: "cannot write the VAPID key",
                path: path.clone(),
                source,
            })?;
            key
        };
        Ok(Vapid::from_key(key))
    }

    fn from_key(key: SigningKey) -> Vapid {
        let point = key.verifying_key().to_encoded_point(false);
        let public = URL_SAFE_NO_PAD.encode(point.as_bytes());
        Vapid { key, public }
    }

    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to a resource of `origin`
    /// (`https://push.example.net`, with a port when it has one): `vapid t=<JWT>, k=<key>`.
    pub fn authorization(&self, origin: &str, now_s: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": origin,
            "exp": now_s + JWT_LIFETIME_S,
            "sub": SUBJECT,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        // JWS ES256 is the raw r || s, which is what `to_bytes` gives.
        let signature: Signature = self.key.sign(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
        format!("vapid t={signed}.{signature}, k={}", self.public)
    }
}

fn read(path: &Path) -> Result<SigningKey, ConfigError> {
    let damaged = |problem: &str| ConfigError::Io {
        what: "the VAPID key file is damaged",
        path: PathBuf::from(path),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{problem}; delete it, and the next start generates a new one \
                 (browsers then subscribe again when the chat next opens)"
            ),
        ),
    };
    let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::InvalidData => damaged("it is not text"),
        _ => ConfigError::Io {
            what: "cannot read the VAPID key",
            path: path.to_owned(),
            source,
        },
    })?;
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| damaged("it is not base64url"))?;
    SigningKey::from_slice(&bytes).map_err(|_| damaged("it does not hold a P-256 private key"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;

    #[test]
    fn the_key_is_made_once_kept_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = Vapid::load_or_create(dir.path()).unwrap();
        let again = Vapid::load_or_create(dir.path()).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        let point = URL_SAFE_NO_PAD.decode(first.public_key()).unwrap();
        assert_eq!(
            (point.len(), point[0]),
            (65, 4),
            "an uncompressed P-256 point"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "not a key").unwrap();
        let error = Vapid::load_or_create(dir.path()).err().unwrap().to_string();
        assert!(error.contains("delete it"), "{error}");
    }

    #[test]
    fn the_jwt_is_signed_by_the_public_key_and_names_the_origin() {
        let dir = tempfile::tempdir().unwrap();
        let vapid = Vapid::load_or_create(dir.path()).unwrap();
        let header = vapid.authorization("https://push.example.net", 1_000);
        let (t, k) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .unwrap();
        assert_eq!(k, vapid.public_key());
        let (signed, signature) = t.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
        key.verify(signed.as_bytes(), &signature).unwrap();
        let claims = signed.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["exp"], 1_000 + JWT_LIFETIME_S);
    }
}
