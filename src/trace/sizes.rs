//! Object-size distributions for synthetic traces: [`SizeDist`], parsed from spec strings.
//!
//! A generated key keeps one size for the whole trace, as a real object does: the size is
//! drawn from a small RNG seeded by a hash of (trace seed, key), so the same key always gets
//! the same size and no per-key table is kept. The spec syntax is the crate's one
//! `name:key=value,...` grammar ([`crate::units::kv`], as libCacheSim's parameter strings):
//!
//! | spec | sizes |
//! | --- | --- |
//! | `4096`, `fixed:4096`, `fixed:4KiB` | every object has this size |
//! | `uniform:min=100,max=10000` | uniform integers in `[min, max]` |
//! | `lognormal:median=4096,sigma=1.0` | `median * exp(sigma * N(0,1))`, rounded, clamped to `[1, u32::MAX]` |
//! | `histogram:FILE` | drawn from a file of `size weight` (or `size,weight`) lines |
//!
//! Byte values accept units (`4KiB`, see [`crate::units::parse_bytes`]).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use rand::{Rng, RngCore};
use rand_distr::StandardNormal;

use super::key_dist::DistError;
use super::splitmix::{SplitMix64, splitmix64};
use super::{Error, Position};
use crate::units::kv::{KeyValues, split_name};
use crate::units::parse_bytes;

/// The valid forms of a size spec, quoted in every size-spec error.
pub const SIZE_FORMS: &str = "a size spec: `4096` or `fixed:4096` (units such as 4KiB allowed), \
    `uniform:min=100,max=10000`, `lognormal:median=4096,sigma=1.0` or `histogram:FILE` \
    (lines of `size weight` or `size,weight`)";

/// How object sizes are drawn; see the module documentation for the spec syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum SizeDist {
    /// Every object has this many bytes.
    Fixed(u32),
    /// Uniform integers in `[min, max]`.
    Uniform {
        /// Smallest size, at least 1.
        min: u32,
        /// Largest size, at least `min`.
        max: u32,
    },
    /// Log-normal: `median * exp(sigma * z)` with `z` standard normal, rounded and clamped
    /// to `[1, u32::MAX]`; real object sizes are close to log-normal.
    LogNormal {
        /// The median size in bytes (`exp(mu)`).
        median: f64,
        /// The standard deviation of the size's natural logarithm.
        sigma: f64,
    },
    /// An empirical distribution read from a file.
    Histogram(SizeHistogram),
}

impl Default for SizeDist {
    /// One byte per object: the unit-size traces of object-count capacities.
    fn default() -> SizeDist {
        SizeDist::Fixed(1)
    }
}

/// An empirical size distribution: sizes with weights, read by [`SizeHistogram::read`].
#[derive(Debug, Clone, PartialEq)]
pub struct SizeHistogram {
    /// The file it was read from, for display and errors.
    pub path: String,
    /// The sizes, in file order.
    pub sizes: Vec<u32>,
    /// Running sums of the weights, same length as `sizes`; the last is the total.
    cumulative: Vec<f64>,
}

impl SizeHistogram {
    /// Reads a histogram file: one `size weight` or `size,weight` pair per line; blank lines
    /// and lines starting with `#` are skipped. Sizes are byte sizes (units allowed) from 1
    /// to `u32::MAX`; weights are finite numbers ≥ 0, and at least one must be positive.
    pub fn read(path: &Path) -> Result<SizeHistogram, Error> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(&name, e))?;
        SizeHistogram::parse(&name, &text)
    }

    /// Parses histogram text; `name` is used in errors and display.
    pub fn parse(name: &str, text: &str) -> Result<SizeHistogram, Error> {
        const EXPECTED: &str = "`size weight` or `size,weight` with a size from 1 to 4294967295 bytes and a weight ≥ 0";
        let mut sizes = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        for (index, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let bad = || Error::malformed(name, Position::Line(index as u64 + 1), EXPECTED, line);
            let mut fields = trimmed
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|f| !f.is_empty());
            let (Some(size), Some(weight), None) = (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad());
            };
            let size = match parse_bytes(size) {
                Ok(s) if (1..=u64::from(u32::MAX)).contains(&s) => s as u32,
                _ => return Err(bad()),
            };
            let weight: f64 = match weight.parse() {
                Ok(w) if w >= 0.0 && f64::is_finite(w) => w,
                _ => return Err(bad()),
            };
            total += weight;
            sizes.push(size);
            cumulative.push(total);
        }
        if total <= 0.0 || !total.is_finite() {
            return Err(Error::Options {
                path: name.to_string(),
                message: "a size histogram needs at least one line with a positive weight"
                    .to_string(),
            });
        }
        Ok(SizeHistogram {
            path: name.to_string(),
            sizes,
            cumulative,
        })
    }

    /// The probability of each size in `sizes` (weights divided by their total).
    pub fn probabilities(&self) -> Vec<f64> {
        let total = self.total();
        let mut prev = 0.0;
        self.cumulative
            .iter()
            .map(|&c| {
                let p = (c - prev) / total;
                prev = c;
                p
            })
            .collect()
    }

    fn total(&self) -> f64 {
        // `parse` guarantees at least one line with a positive weight.
        self.cumulative.last().copied().unwrap_or(1.0)
    }

    fn sample(&self, rng: &mut impl RngCore) -> u32 {
        let x = rng.random::<f64>() * self.total();
        // The first entry whose running sum exceeds x; zero-weight entries are never chosen.
        let index = self.cumulative.partition_point(|&c| c <= x);
        self.sizes[index.min(self.sizes.len() - 1)]
    }
}

impl SizeDist {
    /// The size of `key` in a trace generated with `seed`: the same every time it is asked.
    pub fn size_of(&self, seed: u64, key: u64) -> u32 {
        if let SizeDist::Fixed(size) = self {
            return *size;
        }
        // Mixed twice so that the streams of neighbouring keys do not overlap.
        let mut rng = SplitMix64::new(splitmix64(splitmix64(seed ^ SIZE_STREAM) ^ key));
        self.sample(&mut rng)
    }

    /// Draws one size from `rng`.
    pub fn sample(&self, rng: &mut impl RngCore) -> u32 {
        match self {
            SizeDist::Fixed(size) => *size,
            SizeDist::Uniform { min, max } => rng.random_range(*min..=*max),
            SizeDist::LogNormal { median, sigma } => {
                let z: f64 = rng.sample(StandardNormal);
                let size = (median * (sigma * z).exp()).round();
                size.clamp(1.0, f64::from(u32::MAX)) as u32
            }
            SizeDist::Histogram(hist) => hist.sample(rng),
        }
    }
}

impl FromStr for SizeDist {
    type Err = DistError;

    fn from_str(text: &str) -> Result<SizeDist, DistError> {
        let syntax = |what: String| DistError::Syntax {
            text: text.to_string(),
            expected: format!("{what}; valid forms: {SIZE_FORMS}"),
        };
        let trimmed = text.trim();
        if !trimmed.contains(':')
            && let Ok(size) = parse_bytes(trimmed)
        {
            return fixed(size).map_err(syntax);
        }
        let (name, rest) = split_name(trimmed);
        let name = name.to_ascii_lowercase();
        let rest = rest.unwrap_or("");
        let params = |known: &[&str]| {
            let kv = |e| DistError::from_kv(text, e, SIZE_FORMS);
            let params = KeyValues::parse(rest).map_err(kv)?;
            params.check_keys(known).map_err(kv)?;
            Ok::<KeyValues, DistError>(params)
        };
        let bytes = |params: &KeyValues, key: &str, default: u32| {
            params
                .param(key)
                .map_or(Ok(u64::from(default)), |p| {
                    p.bytes_in(1, u64::from(u32::MAX))
                })
                .map(|n| n as u32)
                .map_err(|e| DistError::from_kv(text, e, SIZE_FORMS))
        };
        match name.as_str() {
            "fixed" => {
                let size = parse_bytes(rest).map_err(|e| syntax(format!("fixed: {e}")))?;
                fixed(size).map_err(syntax)
            }
            "uniform" => {
                let params = params(&["min", "max"])?;
                let min = bytes(&params, "min", 1)?;
                let max = bytes(&params, "max", 4096)?;
                if !(1..=max).contains(&min) {
                    return Err(syntax(format!(
                        "uniform sizes need 1 ≤ min ≤ max, got min={min}, max={max}"
                    )));
                }
                Ok(SizeDist::Uniform { min, max })
            }
            "lognormal" => {
                let params = params(&["median", "sigma"])?;
                let median = f64::from(bytes(&params, "median", 4096)?);
                let sigma = params
                    .param("sigma")
                    .map_or(Ok(1.0), |p| p.finite_f64())
                    .map_err(|e| DistError::from_kv(text, e, SIZE_FORMS))?;
                if !(sigma >= 0.0 && sigma.is_finite()) {
                    return Err(syntax(format!(
                        "sigma must be a finite number ≥ 0, got {sigma}"
                    )));
                }
                Ok(SizeDist::LogNormal { median, sigma })
            }
            "histogram" => {
                if rest.trim().is_empty() {
                    return Err(syntax("histogram: needs a file name".to_string()));
                }
                let hist = SizeHistogram::read(Path::new(rest.trim())).map_err(DistError::File)?;
                Ok(SizeDist::Histogram(hist))
            }
            _ => Err(syntax(format!("unknown size distribution {name:?}"))),
        }
    }
}

fn fixed(size: u64) -> Result<SizeDist, String> {
    if (1..=u64::from(u32::MAX)).contains(&size) {
        Ok(SizeDist::Fixed(size as u32))
    } else {
        Err(format!(
            "a fixed size from 1 to {} bytes, got {size}",
            u32::MAX
        ))
    }
}

impl fmt::Display for SizeDist {
    /// The spec string this distribution parses from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeDist::Fixed(size) => write!(f, "fixed:{size}"),
            SizeDist::Uniform { min, max } => write!(f, "uniform:min={min},max={max}"),
            SizeDist::LogNormal { median, sigma } => {
                write!(f, "lognormal:median={median},sigma={sigma}")
            }
            SizeDist::Histogram(hist) => write!(f, "histogram:{}", hist.path),
        }
    }
}

/// Separates the per-key size stream from other uses of the same trace seed.
const SIZE_STREAM: u64 = 0x51E5_0F0B_1EC7_5A11;

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes_of(dist: &SizeDist, keys: u64) -> Vec<u32> {
        (0..keys).map(|k| dist.size_of(42, k)).collect()
    }

    #[test]
    fn fixed_sizes_in_both_spellings() {
        assert_eq!("4096".parse::<SizeDist>().unwrap(), SizeDist::Fixed(4096));
        assert_eq!(
            "fixed:4096".parse::<SizeDist>().unwrap(),
            SizeDist::Fixed(4096)
        );
        assert_eq!(
            "fixed:4KiB".parse::<SizeDist>().unwrap(),
            SizeDist::Fixed(4096)
        );
        assert_eq!("4KiB".parse::<SizeDist>().unwrap(), SizeDist::Fixed(4096));
        assert!(sizes_of(&SizeDist::Fixed(7), 100).iter().all(|&s| s == 7));
        assert!("0".parse::<SizeDist>().is_err());
        assert!("fixed:8GiB".parse::<SizeDist>().is_err());
    }

    #[test]
    fn a_key_keeps_its_size() {
        let dist: SizeDist = "lognormal:median=1000,sigma=2".parse().unwrap();
        assert_eq!(sizes_of(&dist, 1000), sizes_of(&dist, 1000));
        let other_seed: Vec<u32> = (0..1000).map(|k| dist.size_of(43, k)).collect();
        assert_ne!(sizes_of(&dist, 1000), other_seed);
    }

    #[test]
    fn uniform_sizes_stay_in_bounds_and_cover_them() {
        let dist: SizeDist = "uniform:min=100,max=200".parse().unwrap();
        assert_eq!(dist, SizeDist::Uniform { min: 100, max: 200 });
        let sizes = sizes_of(&dist, 100_000);
        assert_eq!(sizes.iter().min(), Some(&100));
        assert_eq!(sizes.iter().max(), Some(&200));
        let mean = sizes.iter().map(|&s| f64::from(s)).sum::<f64>() / sizes.len() as f64;
        assert!((mean - 150.0).abs() < 0.5, "mean {mean}");
        assert!("uniform:min=300,max=200".parse::<SizeDist>().is_err());
        assert!("uniform:min=0,max=200".parse::<SizeDist>().is_err());
    }

    #[test]
    fn lognormal_median_is_close_to_the_given_one() {
        let dist: SizeDist = "lognormal:median=4096,sigma=1.0".parse().unwrap();
        let mut sizes = sizes_of(&dist, 100_001);
        sizes.sort_unstable();
        let median = f64::from(sizes[sizes.len() / 2]);
        assert!((median / 4096.0 - 1.0).abs() < 0.03, "median {median}");
        // exp(sigma) is the ratio between the 84th and the 50th percentile.
        let p84 = f64::from(sizes[(sizes.len() as f64 * 0.8413) as usize]);
        assert!((p84 / median - 1.0f64.exp()).abs() < 0.1, "p84 {p84}");
        let tiny: SizeDist = "lognormal:median=1,sigma=5".parse().unwrap();
        assert!(sizes_of(&tiny, 10_000).iter().all(|&s| s >= 1));
        assert!(
            "lognormal:median=4096,sigma=-1"
                .parse::<SizeDist>()
                .is_err()
        );
    }

    #[test]
    fn histogram_sizes_follow_the_weights() {
        let hist = SizeHistogram::parse("h.txt", "# size weight\n100 1\n\n200,3\n300 0\n").unwrap();
        assert_eq!(hist.sizes, vec![100, 200, 300]);
        assert_eq!(hist.probabilities(), vec![0.25, 0.75, 0.0]);
        let dist = SizeDist::Histogram(hist);
        let sizes = sizes_of(&dist, 100_000);
        let small = sizes.iter().filter(|&&s| s == 100).count() as f64 / 100_000.0;
        assert!(
            (small - 0.25).abs() < 0.01,
            "fraction of 100-byte objects {small}"
        );
        assert!(sizes.iter().all(|&s| s == 100 || s == 200));
    }

    #[test]
    fn histogram_errors_name_file_and_line() {
        let err = SizeHistogram::parse("h.txt", "100 1\n200 x\n").unwrap_err();
        assert_eq!(err.position(), Some(Position::Line(2)));
        assert!(
            err.to_string()
                .starts_with("h.txt: line 2: expected `size weight`"),
            "{err}"
        );
        let err = SizeHistogram::parse("h.txt", "100 1 7\n").unwrap_err();
        assert_eq!(err.position(), Some(Position::Line(1)));
        let err = SizeHistogram::parse("h.txt", "0 1\n").unwrap_err();
        assert_eq!(err.position(), Some(Position::Line(1)));
        let err = SizeHistogram::parse("h.txt", "100 0\n").unwrap_err();
        assert!(err.to_string().contains("positive weight"), "{err}");
        let err = "histogram:/nonexistent/sizes.txt"
            .parse::<SizeDist>()
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/sizes.txt"), "{err}");
    }

    #[test]
    fn histogram_spec_reads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sizes.txt");
        std::fs::write(&path, "64 1\n1KiB 1\n").unwrap();
        let dist: SizeDist = format!("histogram:{}", path.display()).parse().unwrap();
        let SizeDist::Histogram(hist) = &dist else {
            panic!("not a histogram: {dist:?}");
        };
        assert_eq!(hist.sizes, vec![64, 1024]);
        std::fs::write(&path, "64 1\nbig 1\n").unwrap();
        let err = format!("histogram:{}", path.display())
            .parse::<SizeDist>()
            .unwrap_err();
        assert!(err.to_string().contains("sizes.txt: line 2"), "{err}");
    }

    #[test]
    fn bad_specs_list_the_valid_forms() {
        for bad in [
            "gaussian",
            "uniform:min=1,mx=2",
            "fixed:",
            "lognormal:median=abc",
        ] {
            let err = bad.parse::<SizeDist>().unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(bad) || msg.contains("abc"), "{msg}");
        }
        let msg = "gaussian".parse::<SizeDist>().unwrap_err().to_string();
        assert!(msg.contains("lognormal:median=4096,sigma=1.0"), "{msg}");
    }

    #[test]
    fn display_round_trips() {
        for spec in [
            "fixed:4096",
            "uniform:min=100,max=10000",
            "lognormal:median=4096,sigma=1.5",
        ] {
            let dist: SizeDist = spec.parse().unwrap();
            assert_eq!(dist.to_string(), spec);
            assert_eq!(dist.to_string().parse::<SizeDist>().unwrap(), dist);
        }
    }
}
