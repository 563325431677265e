//! How each series looks: a colour, a dash pattern and a marker shape, fixed per series
//! name so `lru` looks the same in every chart cachelab draws.
//!
//! Colours are the Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2008, as
//! recommended by Wong, *Points of view: Color blindness*, Nature Methods 8:441, 2011) with
//! black replaced by a dark grey and the yellow (#F0E442, too light on white) left out,
//! followed by Paul Tol's "muted" scheme (<https://personal.sron.nl/~pault/>, without its
//! light sand). [`FIXED`] maps every builtin policy, curve method, contention strategy and
//! migration strategy to a look; other names get one from a stable FNV-1a hash of the name,
//! never from the series' position or a `HashMap`'s order. Lines differ by dash and marker
//! as well as colour, so curves stay apart in grey-scale prints and where they overlap.

/// A line's dash pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dash {
    /// An unbroken line.
    Solid,
    /// Medium dashes.
    Dashed,
    /// Short dots.
    Dotted,
    /// Dash, dot, dash.
    DashDot,
    /// Long dashes.
    LongDash,
}

impl Dash {
    /// Every pattern, in the order collisions step through them.
    pub const ALL: [Dash; 5] = [
        Dash::Solid,
        Dash::Dashed,
        Dash::Dotted,
        Dash::DashDot,
        Dash::LongDash,
    ];

    /// Alternating on and off lengths in pixels; empty for a solid line.
    pub fn pattern(self) -> &'static [f64] {
        match self {
            Dash::Solid => &[],
            Dash::Dashed => &[9.0, 5.0],
            Dash::Dotted => &[2.5, 4.0],
            Dash::DashDot => &[10.0, 4.0, 2.5, 4.0],
            Dash::LongDash => &[18.0, 6.0],
        }
    }
}

/// The shape drawn at (some of) a series' points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle, point up.
    Triangle,
    /// A filled diamond.
    Diamond,
    /// A filled triangle, point down.
    TriangleDown,
    /// An ×.
    Cross,
    /// A +.
    Plus,
}

impl Marker {
    /// Every shape, in the order collisions step through them.
    pub const ALL: [Marker; 7] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
        Marker::TriangleDown,
        Marker::Cross,
        Marker::Plus,
    ];
}

/// A series' colour, dash pattern and marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Look {
    /// Red, green, blue.
    pub colour: [u8; 3],
    /// The line's pattern.
    pub dash: Dash,
    /// The point marker.
    pub marker: Marker,
}

impl Look {
    /// The colour as `#RRGGBB`.
    pub fn hex(&self) -> String {
        let [r, g, b] = self.colour;
        format!("#{r:02X}{g:02X}{b:02X}")
    }
}

/// The palette: Okabe–Ito first (most distinct), then Paul Tol's muted scheme.
pub const PALETTE: [[u8; 3]; 15] = [
    [0x00, 0x72, 0xB2], // 0 blue (Okabe–Ito)
    [0xE6, 0x9F, 0x00], // 1 orange
    [0x00, 0x9E, 0x73], // 2 bluish green
    [0xD5, 0x5E, 0x00], // 3 vermillion
    [0xCC, 0x79, 0xA7], // 4 reddish purple
    [0x56, 0xB4, 0xE9], // 5 sky blue
    [0x4D, 0x4D, 0x4D], // 6 dark grey (for Okabe–Ito's black)
    [0x33, 0x22, 0x88], // 7 indigo (Tol muted)
    [0xCC, 0x66, 0x77], // 8 rose
    [0x11, 0x77, 0x33], // 9 green
    [0x88, 0x22, 0x55], // 10 wine
    [0x44, 0xAA, 0x99], // 11 teal
    [0x99, 0x99, 0x33], // 12 olive
    [0xAA, 0x44, 0x99], // 13 purple
    [0x88, 0xCC, 0xEE], // 14 cyan
];

/// The names cachelab draws, by [`style_key`]: palette index, dash and marker. Each group's
/// names (policies; curve methods; contention strategies; migration strategies) have
/// distinct colours; the policies use all fifteen.
pub const FIXED: &[(&str, usize, Dash, Marker)] = &[
    // Cache policies (`cachelab policies`).
    ("lru", 0, Dash::Solid, Marker::Circle),
    ("fifo", 1, Dash::Dashed, Marker::Square),
    ("arc", 2, Dash::DashDot, Marker::Triangle),
    ("s3fifo", 3, Dash::Solid, Marker::Diamond),
    ("sieve", 4, Dash::Dashed, Marker::TriangleDown),
    ("lfu", 5, Dash::Dotted, Marker::Cross),
    ("belady", 6, Dash::LongDash, Marker::Plus),
    ("wtinylfu", 7, Dash::Solid, Marker::Square),
    ("lirs", 8, Dash::Dashed, Marker::Circle),
    ("2q", 9, Dash::DashDot, Marker::Diamond),
    ("slru", 10, Dash::Dotted, Marker::Triangle),
    ("clock", 11, Dash::LongDash, Marker::Cross),
    ("random", 12, Dash::Dotted, Marker::Plus),
    ("memcached", 13, Dash::Solid, Marker::TriangleDown),
    ("ttl", 14, Dash::Dashed, Marker::Diamond),
    // Miss-ratio-curve methods.
    ("exact", 6, Dash::Solid, Marker::Circle),
    ("shards", 0, Dash::Dashed, Marker::Square),
    ("aet", 1, Dash::DashDot, Marker::Triangle),
    ("mini", 2, Dash::Dotted, Marker::Diamond),
    // Contention strategies.
    ("naive", 3, Dash::Solid, Marker::Triangle),
    ("cas", 0, Dash::Dashed, Marker::Circle),
    ("incr", 2, Dash::DashDot, Marker::Square),
    ("lease", 1, Dash::LongDash, Marker::Diamond),
    // Migration strategies.
    ("cutover", 3, Dash::Solid, Marker::Triangle),
    ("fallback", 0, Dash::Dashed, Marker::Circle),
    ("fallback-writeback", 2, Dash::DashDot, Marker::Square),
    ("dual-write", 4, Dash::Dotted, Marker::Diamond),
    ("warmup-route", 1, Dash::LongDash, Marker::Cross),
    // Generic counters (per-node load).
    ("requests", 0, Dash::Solid, Marker::Circle),
    ("hits", 2, Dash::Dashed, Marker::Square),
    ("misses", 3, Dash::Dotted, Marker::Triangle),
];

/// The part of a series name its look depends on: lowercase, up to the first character
/// that is not a letter, digit, `-` or `_` (`shards:rate=0.01` → `shards`, `cas (exp)` →
/// `cas`); `twoq` is `2q`. A name starting with other characters is its own key.
pub fn style_key(name: &str) -> String {
    let trimmed = name.trim();
    let key: String = trimmed
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "" => trimmed.to_lowercase(),
        "twoq" => "2q".to_string(),
        _ => key,
    }
}

/// 64-bit FNV-1a: stable across runs, platforms and Rust versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The fixed look of a known key, if it has one.
fn fixed(key: &str) -> Option<Look> {
    FIXED
        .iter()
        .find(|(name, ..)| *name == key)
        .map(|&(_, colour, dash, marker)| Look {
            colour: PALETTE[colour],
            dash,
            marker,
        })
}

/// The hash-chosen palette index, dash and marker of an unknown key.
fn hashed(key: &str) -> (usize, Dash, Marker) {
    let h = fnv1a(key.as_bytes());
    // The modulus keeps each value below its table's length, so the casts cannot truncate.
    let colour = (h % PALETTE.len() as u64) as usize;
    let dash = Dash::ALL[((h >> 20) % Dash::ALL.len() as u64) as usize];
    let marker = Marker::ALL[((h >> 40) % Marker::ALL.len() as u64) as usize];
    (colour, dash, marker)
}

/// The key a series' look is chosen by: its [`style_key`] when that names a [`FIXED`] row
/// (so `s3fifo:small=0.2` looks like `s3fifo`), else the whole name, trimmed and lowercase
/// (so `node1:11211` and `node2:11211` differ).
fn look_key(name: &str) -> String {
    let key = style_key(name);
    if fixed(&key).is_some() {
        key
    } else {
        name.trim().to_lowercase()
    }
}

/// The look of a series called `name` on its own: the [`FIXED`] row of its [`style_key`],
/// or one picked by a hash of the whole name.
pub fn look_for(name: &str) -> Look {
    let key = look_key(name);
    fixed(&key).unwrap_or_else(|| {
        let (colour, dash, marker) = hashed(&key);
        Look {
            colour: PALETTE[colour],
            dash,
            marker,
        }
    })
}

/// The looks of one chart's series, in order; `dash` overrides a series' dash pattern.
///
/// Known names keep their fixed look. An unknown name whose hashed colour another key of
/// the chart already uses moves to the next free palette colour (while one is free). Two
/// series with the same colour and dash (`s3fifo:small=0.1` and `s3fifo:small=0.2`, or two
/// unknown names once the palette is used up) step the later one's dash and marker on, so
/// no two lines of a chart look alike.
pub fn assign_looks(series: &[(&str, Option<Dash>)]) -> Vec<Look> {
    let keys: Vec<String> = series.iter().map(|(name, _)| look_key(name)).collect();
    // Colours of the known keys first, so an unknown name never takes theirs.
    let mut key_colour: Vec<(String, [u8; 3])> = Vec::new();
    for key in &keys {
        if let Some(look) = fixed(key)
            && !key_colour.iter().any(|(k, _)| k == key)
        {
            key_colour.push((key.clone(), look.colour));
        }
    }
    let mut looks: Vec<Look> = Vec::with_capacity(series.len());
    for (i, key) in keys.iter().enumerate() {
        let mut look = match fixed(key) {
            Some(look) => look,
            None => {
                let (start, dash, marker) = hashed(key);
                let colour = match key_colour.iter().find(|(k, _)| k == key) {
                    Some(&(_, colour)) => colour,
                    None => {
                        let free = (0..PALETTE.len())
                            .map(|step| PALETTE[(start + step) % PALETTE.len()])
                            .find(|c| !key_colour.iter().any(|(_, used)| used == c));
                        let colour = free.unwrap_or(PALETTE[start]);
                        key_colour.push((key.clone(), colour));
                        colour
                    }
                };
                Look {
                    colour,
                    dash,
                    marker,
                }
            }
        };
        if let Some(dash) = series[i].1 {
            look.dash = dash;
        }
        let taken = |l: &Look| {
            looks
                .iter()
                .any(|o| o.colour == l.colour && o.dash == l.dash)
        };
        if taken(&look) {
            let d0 = Dash::ALL.iter().position(|d| *d == look.dash).unwrap_or(0);
            let m0 = Marker::ALL
                .iter()
                .position(|m| *m == look.marker)
                .unwrap_or(0);
            for step in 1..Dash::ALL.len() {
                let candidate = Look {
                    dash: Dash::ALL[(d0 + step) % Dash::ALL.len()],
                    marker: Marker::ALL[(m0 + step) % Marker::ALL.len()],
                    ..look
                };
                if !taken(&candidate) {
                    look = candidate;
                    break;
                }
            }
        }
        looks.push(look);
    }
    looks
}
