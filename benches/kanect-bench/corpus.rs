//! The text of `s`: a vocabulary of `WORDS` words ranked by frequency and drawn with a
//! Zipf-like law (Zipf-Mandelbrot, exponent 1), so that a few words are in most messages
//! and most words in few, as in any language. The first ranks are real English and chat
//! words, about 50 accented words are spread over the ranks from 40 on ("café", "élève",
//! "naïve", ...), and the rest are made-up words of two or three syllables. A message is a
//! sentence of 3 to 30 words, mostly short, sometimes capitalised, with a comma here and
//! there and a full stop, question or exclamation mark at the end, or none.
//!
//! Everything is drawn from a seeded generator: every run writes the same messages.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Words in the vocabulary.
pub const WORDS: usize = 4000;
/// The Zipf-Mandelbrot offset: rank r is drawn with weight 1 / (r + 1 + OFFSET).
const OFFSET: f64 = 2.7;

const COMMON: &str = "the to and a of I you it is in that for we on this be with have \
    not are can do just so but at what if it's was will my me all get ok like yes no \
    there they know think about one out up now from your he she an as by or our time \
    going today would some thanks here good need see then when how also more should \
    make go could work did been them us had right back sure which other want any people \
    new first only because still look over way day really well after were maybe much \
    let's tomorrow morning meeting check send call later soon done ready working update \
    build release deploy test review merge branch server client database query index \
    search message chat team project issue ticket customer please sorry great fix bug \
    error log link page design file version lunch coffee week next last thing yeah hey \
    lol okay thank hello everyone again before since long little something nothing \
    everything never always doing getting trying looks seems said told asked \
    give take put keep start stop run help try show find feel leave move change point \
    problem question answer idea plan note list data code report number part place \
    case system group world home hand life week month year night afternoon evening \
    friday monday weekend holiday office remote screen phone laptop browser window \
    slow fast big small old high low easy hard late early open close free busy happy";

/// Accented words, with the unaccented spelling people also type.
const ACCENTED: [(&str, &str); 50] = [
    ("café", "cafe"),
    ("élève", "eleve"),
    ("naïve", "naive"),
    ("résumé", "resume"),
    ("déjà", "deja"),
    ("façade", "facade"),
    ("crème", "creme"),
    ("brûlée", "brulee"),
    ("über", "uber"),
    ("señor", "senor"),
    ("niño", "nino"),
    ("jalapeño", "jalapeno"),
    ("piñata", "pinata"),
    ("fiancée", "fiancee"),
    ("rôle", "role"),
    ("garçon", "garcon"),
    ("mañana", "manana"),
    ("touché", "touche"),
    ("voilà", "voila"),
    ("château", "chateau"),
    ("forêt", "foret"),
    ("été", "ete"),
    ("très", "tres"),
    ("fête", "fete"),
    ("hôtel", "hotel"),
    ("naïveté", "naivete"),
    ("zoë", "zoe"),
    ("smörgåsbord", "smorgasbord"),
    ("ångström", "angstrom"),
    ("crêpe", "crepe"),
    ("soufflé", "souffle"),
    ("protégé", "protege"),
    ("cliché", "cliche"),
    ("doña", "dona"),
    ("año", "ano"),
    ("zürich", "zurich"),
    ("köln", "koln"),
    ("münchen", "munchen"),
    ("entrée", "entree"),
    ("éclair", "eclair"),
    ("pâté", "pate"),
    ("coöperation", "cooperation"),
    ("müller", "muller"),
    ("göteborg", "goteborg"),
    ("señora", "senora"),
    ("açaí", "acai"),
    ("déjeuner", "dejeuner"),
    ("bientôt", "bientot"),
    ("réunion", "reunion"),
    ("équipe", "equipe"),
];

const ONSETS: [&str; 33] = [
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
    "cr", "dr", "fr", "gr", "pr", "tr", "bl", "cl", "fl", "pl", "st", "sp", "ch", "th",
];
const VOWELS: [&str; 9] = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"];
const CODAS: [&str; 9] = ["", "", "", "n", "r", "s", "l", "nd", "rk"];

pub struct Corpus {
    /// By rank, the most frequent first.
    pub words: Vec<String>,
    /// Rank -> the unaccented spelling, for the accented words.
    pub plain: Vec<Option<&'static str>>,
    /// Cumulative weights of the ranks, the last one 1.0.
    cumulative: Vec<f64>,
}

impl Corpus {
    pub fn new() -> Corpus {
        let mut rng = StdRng::seed_from_u64(15);
        let mut words: Vec<String> = Vec::with_capacity(WORDS);
        let mut plain = Vec::with_capacity(WORDS);
        let mut seen = HashSet::new();
        let mut unique = HashSet::new();
        let common: Vec<&str> = COMMON
            .split_whitespace()
            .filter(|w| unique.insert(*w))
            .collect();
        seen.extend(common.iter().map(|w| w.to_string()));
        let mut common = common.into_iter();
        let mut accented = ACCENTED.iter();
        while words.len() < WORDS {
            let rank = words.len();
            if rank >= 40 && rank % 37 == 3 {
                if let Some((word, unaccented)) = accented.next() {
                    words.push((*word).to_owned());
                    plain.push(Some(*unaccented));
                    continue;
                }
            }
            let word = match common.next() {
                Some(word) => word.to_owned(),
                None => loop {
                    let made = made_up(&mut rng);
                    if seen.insert(made.clone()) {
                        break made;
                    }
                },
            };
            words.push(word);
            plain.push(None);
        }
        let weights: Vec<f64> = (0..WORDS)
            .map(|r| 1.0 / (r as f64 + 1.0 + OFFSET))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut sum = 0.0;
        let mut cumulative: Vec<f64> = weights
            .iter()
            .map(|w| {
                sum += w / total;
                sum
            })
            .collect();
        cumulative[WORDS - 1] = 1.0;
        Corpus {
            words,
            plain,
            cumulative,
        }
    }

    /// A rank drawn by frequency.
    pub fn rank(&self, rng: &mut StdRng) -> u16 {
        let x: f64 = rng.gen();
        self.cumulative.partition_point(|&c| c < x).min(WORDS - 1) as u16
    }

    /// A message: its words' ranks, and its text.
    pub fn message(&self, rng: &mut StdRng, text: &mut String) -> Vec<u16> {
        // Mostly short: 3 + an exponential of mean 7, at most 30.
        let extra = (-7.0 * (1.0 - rng.gen::<f64>()).ln()) as usize;
        let len = (3 + extra).min(30);
        let ranks: Vec<u16> = (0..len).map(|_| self.rank(rng)).collect();
        text.clear();
        let capital = rng.gen_bool(0.4);
        for (i, &rank) in ranks.iter().enumerate() {
            let word = &self.words[usize::from(rank)];
            if i == 0 && capital {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(chars.as_str());
                }
            } else {
                text.push_str(word);
            }
            if i + 1 < len {
                text.push_str(if rng.gen_bool(0.05) { ", " } else { " " });
            }
        }
        text.push_str(match rng.gen_range(0..10) {
            0..=3 => "",
            4..=6 => ".",
            7 | 8 => "?",
            _ => "!",
        });
        ranks
    }
}

fn made_up(rng: &mut StdRng) -> String {
    let syllables = rng.gen_range(2..=3);
    let mut word = String::new();
    for _ in 0..syllables {
        word.push_str(ONSETS[rng.gen_range(0..ONSETS.len())]);
        word.push_str(VOWELS[rng.gen_range(0..VOWELS.len())]);
    }
    word.push_str(CODAS[rng.gen_range(0..CODAS.len())]);
    word
}
