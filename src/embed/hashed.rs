//! Asset names that carry their content's hash (`dist/chat.3f2a1c9e04b7.js`): a new build
//! gets new names, so a browser may keep each one forever.

/// Hex digits of the SHA-256 in a name: 48 bits, so two builds never share a name.
const HASH_LEN: usize = 12;

/// The hash a name carries for these contents.
pub fn tag(sha256: &[u8; 32]) -> String {
    hex(sha256, HASH_LEN)
}

/// The first `digits` hex digits of a hash (an even number).
pub fn hex(sha256: &[u8; 32], digits: usize) -> String {
    sha256
        .iter()
        .take(digits / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `dist/chat.js` with the hash put before its extension.
pub fn name(path: &str, sha256: &[u8; 32]) -> String {
    let tag = tag(sha256);
    let (dir, file) = parts(path);
    let file = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{tag}.{ext}"),
        _ => format!("{file}.{tag}"),
    };
    joined(dir, file)
}

/// A path's folder (maybe empty) and file name.
fn parts(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

fn joined(dir: &str, file: String) -> String {
    if dir.is_empty() {
        file
    } else {
        format!("{dir}/{file}")
    }
}

/// A hashed name taken apart: the plain path and the hash it names.
pub fn split(path: &str) -> Option<(String, &str)> {
    let (dir, file) = parts(path);
    let (head, last) = file.rsplit_once('.')?;
    let (plain, tag) = match head.rsplit_once('.') {
        Some((stem, tag)) if is_tag(tag) && !stem.is_empty() => (format!("{stem}.{last}"), tag),
        _ if is_tag(last) && !head.is_empty() => (head.to_owned(), last),
        _ => return None,
    };
    Some((joined(dir, plain), tag))
}

fn is_tag(text: &str) -> bool {
    text.len() == HASH_LEN && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::{name, split};

    const SHA: [u8; 32] = [0xab; 32];

    #[test]
    fn a_hashed_name_splits_back_into_its_path() {
        for path in [
            "dist/chat.js",
            "css/app.css",
            "favicon.svg",
            "img/a.b.svg",
            "LICENSE",
        ] {
            let hashed = name(path, &SHA);
            assert_ne!(hashed, path);
            assert_eq!(
                split(&hashed),
                Some((path.to_owned(), "abababababab")),
                "{hashed}"
            );
        }
        assert_eq!(name("dist/chat.js", &SHA), "dist/chat.abababababab.js");
    }

    #[test]
    fn plain_names_are_not_hashed_ones() {
        for path in [
            "dist/chat.js",
            "a.abc.js",
            "x.ABABABABABAB.js",
            ".abababababab.js",
        ] {
            assert_eq!(split(path), None, "{path}");
        }
    }
}
