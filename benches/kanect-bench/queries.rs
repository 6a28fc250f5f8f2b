//! The queries of `s`, as a person types them, of four kinds, each a varied set drawn
//! from the corpus (never one string repeated): the server matches every word, the last
//! one as a prefix, and quoted phrases as phrases.
//!   - one word: half among the 100 most frequent words, a quarter among ranks 100-999,
//!     a quarter among the rarest 3,000;
//!   - two words: two words of one message of the searcher's chats;
//!   - prefix: a word of 5 or more letters of such a message cut to 3 or 4 letters, after
//!     another word of the message in half of them;
//!   - phrase: two or three adjacent words of such a message, in double quotes.
//!
//! An accented word is typed without its accents half of the time ("cafe" for "café").
//! Words of one letter ("a", "I") are never a query's last word: a one-letter prefix is
//! a request for everything, which the UI does not send.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::corpus::{Corpus, WORDS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Word,
    TwoWords,
    Prefix,
    Phrase,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Word, Kind::TwoWords, Kind::Prefix, Kind::Phrase];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Word => "one word",
            Kind::TwoWords => "two words",
            Kind::Prefix => "prefix",
            Kind::Phrase => "phrase",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Kind::Word => "one_word",
            Kind::TwoWords => "two_words",
            Kind::Prefix => "prefix",
            Kind::Phrase => "phrase",
        }
    }
}

/// `per_kind` distinct queries of each kind, shuffled together (so that the kinds share
/// whatever else the machine was doing meanwhile); another `seed`, other queries.
pub fn make(
    corpus: &Corpus,
    samples: &[Vec<u16>],
    per_kind: usize,
    seed: u64,
) -> Vec<(Kind, String)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut all = Vec::with_capacity(per_kind * 4);
    for kind in Kind::ALL {
        let mut seen = HashSet::new();
        // Enough tries for a small corpus; the report counts the queries made.
        for _ in 0..per_kind * 50 {
            if seen.len() == per_kind {
                break;
            }
            let q = match kind {
                Kind::Word => Some(word(corpus, &mut rng)),
                _ => samples
                    .choose(&mut rng)
                    .and_then(|s| from_sample(kind, corpus, s, &mut rng)),
            };
            if let Some(q) = q {
                if seen.insert(q.clone()) {
                    all.push((kind, q));
                }
            }
        }
    }
    all.shuffle(&mut rng);
    all
}

/// A word as typed: an accented one without its accents half of the time.
fn typed(corpus: &Corpus, rank: u16, rng: &mut StdRng) -> String {
    let rank = usize::from(rank);
    match corpus.plain[rank] {
        Some(plain) if rng.gen_bool(0.5) => plain.to_owned(),
        _ => corpus.words[rank].clone(),
    }
}

fn letters(corpus: &Corpus, rank: u16) -> usize {
    corpus.words[usize::from(rank)].chars().count()
}

fn word(corpus: &Corpus, rng: &mut StdRng) -> String {
    loop {
        let range = match rng.gen_range(0..4) {
            0 | 1 => 0..100,
            2 => 100..1000,
            _ => 1000..WORDS,
        };
        let rank = rng.gen_range(range) as u16;
        if letters(corpus, rank) >= 2 {
            return typed(corpus, rank, rng);
        }
    }
}

fn from_sample(kind: Kind, corpus: &Corpus, sample: &[u16], rng: &mut StdRng) -> Option<String> {
    let long_enough = |&&rank: &&u16| letters(corpus, rank) >= 2;
    match kind {
        Kind::Word => None,
        Kind::TwoWords => {
            let words: Vec<u16> = sample.iter().filter(long_enough).copied().collect();
            let picked: Vec<u16> = words.choose_multiple(rng, 2).copied().collect();
            let (a, b) = (*picked.first()?, *picked.get(1)?);
            (a != b).then(|| format!("{} {}", typed(corpus, a, rng), typed(corpus, b, rng)))
        }
        Kind::Prefix => {
            let at = (0..sample.len())
                .filter(|&i| letters(corpus, sample[i]) >= 5)
                .collect::<Vec<_>>()
                .choose(rng)
                .copied()?;
            let cut: String = typed(corpus, sample[at], rng)
                .chars()
                .take(rng.gen_range(3..=4))
                .collect();
            let before = sample
                .iter()
                .enumerate()
                .filter(|&(i, rank)| i != at && letters(corpus, *rank) >= 2)
                .map(|(_, &rank)| rank)
                .collect::<Vec<_>>()
                .choose(rng)
                .copied();
            match before {
                Some(rank) if rng.gen_bool(0.5) => {
                    Some(format!("{} {cut}", typed(corpus, rank, rng)))
                }
                _ => Some(cut),
            }
        }
        Kind::Phrase => {
            let n = rng.gen_range(2..=3).min(sample.len());
            if n < 2 {
                return None;
            }
            let start = rng.gen_range(0..=sample.len() - n);
            let words: Vec<String> = sample[start..start + n]
                .iter()
                .map(|&rank| typed(corpus, rank, rng))
                .collect();
            Some(format!("\"{}\"", words.join(" ")))
        }
    }
}
