//! Which content coding to answer with, from the request's `Accept-Encoding` (RFC 9110
//! section 12.5.3): the highest q-value among the codings we have, brotli before gzip on
//! a tie, identity when neither is acceptable.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The `Content-Encoding` value, if any.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

/// The q-value the header gives `coding`: its own entry, else `*`, else 0 (not acceptable).
fn quality(accept: &str, coding: &str) -> f32 {
    let mut star = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let name = parts.next().unwrap_or_default().trim();
        // A q-value that does not parse counts as 0: the client said something odd.
        let q = parts
            .find_map(|param| {
                let (key, value) = param.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().unwrap_or(0.0))
            })
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        if name.eq_ignore_ascii_case(coding) || (coding == "gzip" && name == "x-gzip") {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0.0)
}

/// The best coding for this request among those the asset has; every value of the header
/// (a request may repeat it) is one list.
pub fn choose<'a>(
    accept: impl Iterator<Item = &'a str>,
    has_brotli: bool,
    has_gzip: bool,
) -> Encoding {
    let accept = accept.collect::<Vec<_>>().join(",");
    let br = if has_brotli {
        quality(&accept, "br")
    } else {
        0.0
    };
    let gzip = if has_gzip {
        quality(&accept, "gzip")
    } else {
        0.0
    };
    if br > 0.0 && br >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

#[cfg(test)]
mod tests {
    use super::{choose, Encoding};

    fn pick(header: &str) -> Encoding {
        choose(std::iter::once(header), true, true)
    }

    #[test]
    fn brotli_first_then_gzip_then_nothing() {
        assert_eq!(pick("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(pick("gzip, deflate"), Encoding::Gzip);
        assert_eq!(pick("x-gzip"), Encoding::Gzip);
        assert_eq!(pick(""), Encoding::Identity);
        assert_eq!(pick("identity"), Encoding::Identity);
        assert_eq!(pick("deflate, zstd"), Encoding::Identity);
    }

    #[test]
    fn q_values_are_respected() {
        assert_eq!(pick("br;q=0.5, gzip;q=0.8"), Encoding::Gzip);
        assert_eq!(pick("br;q=0, gzip"), Encoding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(pick("BR; Q=1.0, GZIP;q=1"), Encoding::Brotli);
        assert_eq!(pick("*"), Encoding::Brotli);
        assert_eq!(pick("*;q=0.2, br;q=0.1"), Encoding::Gzip);
        assert_eq!(pick("gzip;q=0, *"), Encoding::Brotli);
        assert_eq!(pick("br;q=nonsense, gzip"), Encoding::Gzip);
    }

    #[test]
    fn only_codings_the_asset_has() {
        let header = || std::iter::once("br, gzip");
        assert_eq!(choose(header(), false, true), Encoding::Gzip);
        assert_eq!(choose(header(), false, false), Encoding::Identity);
        let repeated = ["gzip;q=0.5", "br;q=0.9"];
        assert_eq!(choose(repeated.into_iter(), true, true), Encoding::Brotli);
    }
}
