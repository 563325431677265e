//! Measured delay distributions: a histogram of round trips (or service times) recorded
//! from a live server, and sampling from it with the simulation's seeded generator.
//!
//! A [`DelayHistogram`] keeps every measured sample, bucketed at a fixed width (100 ns for
//! calibration): the shape of the distribution, tail included, survives instead of being
//! squeezed into two percentiles. A sample picks a bucket with probability proportional to
//! its count and a uniform point inside it (inverse transform over the histogram's CDF),
//! so two draws almost never tie and a steady network cannot fall into lockstep. Every
//! number comes from the generator it is given, so a seed fixes every sample.
//!
//! [`loopback_rtt`] and [`loopback_service`] are the default network delay and service
//! time of `cachelab contention --mode sim`: a calibration (`--calibrate`, see
//! [`super::calibrate`]) of memcached 1.6.18 on this project's 2-core build machine, over
//! 127.0.0.1, kept in `loopback_calibration.json` beside this file. Measured with a
//! release build on 2026-12-02 (`cachelab contention --calibrate 127.0.0.1:PORT
//! --calibration FILE`, load average 7 from other jobs): round trip p10/p50/p90/p99
//! 15.6/15.7/16.9/22.4 µs, service time median 7.2 µs, so a network delay of about
//! 8.5 µs with the measured spread and tail.

use std::fmt;
use std::sync::{Arc, LazyLock};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::units::format_duration_ns;

/// A histogram of measured delays, ns, in buckets of `bucket_ns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HistogramFile", into = "HistogramFile")]
pub struct DelayHistogram {
    label: String,
    bucket_ns: u64,
    /// (bucket index, samples in it), ascending, no empty buckets.
    buckets: Vec<(u64, u64)>,
    /// Running totals of `buckets`' counts.
    cumulative: Vec<u64>,
}

/// How a histogram is written to a calibration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HistogramFile {
    /// What was measured.
    label: String,
    /// Bucket width, ns.
    bucket_ns: u64,
    /// `[bucket index, count]`: the bucket holds `[index, index + 1) · bucket_ns`.
    buckets: Vec<(u64, u64)>,
}

impl TryFrom<HistogramFile> for DelayHistogram {
    type Error = String;
    fn try_from(f: HistogramFile) -> Result<Self, Self::Error> {
        DelayHistogram::from_buckets(f.label, f.bucket_ns, f.buckets)
    }
}

impl From<DelayHistogram> for HistogramFile {
    fn from(h: DelayHistogram) -> Self {
        HistogramFile {
            label: h.label,
            bucket_ns: h.bucket_ns,
            buckets: h.buckets,
        }
    }
}

impl DelayHistogram {
    /// The histogram of `samples` (ns) in buckets of `bucket_ns`; `label` names what was
    /// measured. Needs at least one sample and a bucket of at least 1 ns.
    pub fn from_samples(
        label: impl Into<String>,
        bucket_ns: u64,
        samples: impl IntoIterator<Item = u64>,
    ) -> Result<DelayHistogram, String> {
        if bucket_ns == 0 {
            return Err("a histogram's bucket width must be at least 1 ns".into());
        }
        let mut indexes: Vec<u64> = samples.into_iter().map(|s| s / bucket_ns).collect();
        indexes.sort_unstable();
        let mut buckets: Vec<(u64, u64)> = Vec::new();
        for i in indexes {
            match buckets.last_mut() {
                Some((last, count)) if *last == i => *count += 1,
                _ => buckets.push((i, 1)),
            }
        }
        DelayHistogram::from_buckets(label.into(), bucket_ns, buckets)
    }

    /// A histogram from its buckets (index, count); indexes strictly ascending, counts
    /// positive, at least one sample.
    pub fn from_buckets(
        label: String,
        bucket_ns: u64,
        buckets: Vec<(u64, u64)>,
    ) -> Result<DelayHistogram, String> {
        if bucket_ns == 0 {
            return Err("a histogram's bucket width must be at least 1 ns".into());
        }
        if buckets.is_empty() {
            return Err(format!("the histogram {label:?} has no samples"));
        }
        if buckets.windows(2).any(|w| w[0].0 >= w[1].0) || buckets.iter().any(|b| b.1 == 0) {
            return Err(format!(
                "the histogram {label:?} needs ascending bucket indexes with positive counts"
            ));
        }
        if buckets.last().is_some_and(|&(i, _)| {
            i.checked_add(1)
                .and_then(|n| n.checked_mul(bucket_ns))
                .is_none()
        }) {
            return Err(format!("the histogram {label:?} reaches past 2^64 ns"));
        }
        let mut total = 0u64;
        let mut cumulative = Vec::with_capacity(buckets.len());
        for &(_, count) in &buckets {
            total = total
                .checked_add(count)
                .ok_or_else(|| format!("the histogram {label:?} counts past 2^64"))?;
            cumulative.push(total);
        }
        Ok(DelayHistogram {
            label,
            bucket_ns,
            buckets,
            cumulative,
        })
    }

    /// What was measured.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Samples in the histogram.
    pub fn samples(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Bucket width, ns.
    pub fn bucket_ns(&self) -> u64 {
        self.bucket_ns
    }

    /// The mean, ns, taking each sample at its bucket's middle (what [`Self::sample`]
    /// averages to).
    pub fn mean_ns(&self) -> f64 {
        let width = self.bucket_ns as f64;
        let sum: f64 = self
            .buckets
            .iter()
            .map(|&(i, c)| (i as f64 + 0.5) * width * c as f64)
            .sum();
        sum / self.samples() as f64
    }

    /// The `q` quantile (0..=1), ns: the middle of the bucket holding it.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        let rank = ((self.samples() - 1) as f64 * q.clamp(0.0, 1.0)).round() as u64;
        let at = self.cumulative.partition_point(|&c| c <= rank);
        let (i, _) = self.buckets[at.min(self.buckets.len() - 1)];
        i * self.bucket_ns + self.bucket_ns / 2
    }

    /// True when every sample is 0 (one bucket, at 0, one nanosecond wide).
    pub fn is_zero(&self) -> bool {
        self.bucket_ns == 1 && self.buckets == [(0, self.samples())]
    }

    /// One draw: a bucket by its share of the samples, then a uniform point in it.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let r = rng.random_range(0..self.samples());
        let at = self.cumulative.partition_point(|&c| c <= r);
        let (i, _) = self.buckets[at];
        let within = rng.random_range(0..self.bucket_ns);
        i * self.bucket_ns + within
    }

    /// The same samples, each reduced by `ns` (at least 0): a round trip less the
    /// service time is the network's share.
    pub fn shifted_down(&self, ns: u64, label: impl Into<String>) -> DelayHistogram {
        let mut buckets: Vec<(u64, u64)> = Vec::with_capacity(self.buckets.len());
        for &(i, c) in &self.buckets {
            let lo = (i * self.bucket_ns).saturating_sub(ns) / self.bucket_ns;
            match buckets.last_mut() {
                Some((last, count)) if *last == lo => *count += c,
                _ => buckets.push((lo, c)),
            }
        }
        DelayHistogram::from_buckets(label.into(), self.bucket_ns, buckets)
            .expect("shifting keeps ascending buckets and every sample")
    }
}

impl fmt::Display for DelayHistogram {
    /// `LABEL[p10=…,p50=…,p90=…,p99=…]`: what was measured and its shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = |q: f64| format_duration_ns(self.quantile_ns(q));
        write!(
            f,
            "{}[p10={},p50={},p90={},p99={}]",
            self.label,
            q(0.1),
            q(0.5),
            q(0.9),
            q(0.99)
        )
    }
}

/// The default calibration, as measured (see the module docs): the JSON a
/// `--calibrate HOST:PORT --calibration FILE` run saves.
pub const LOOPBACK_CALIBRATION_JSON: &str = include_str!("loopback_calibration.json");

/// The simulation's network delay: each measured round trip less the median service time
/// (the rule every calibration uses; see the calibrate module).
pub fn network_delay(
    round_trip: &DelayHistogram,
    service: &DelayHistogram,
    label: impl Into<String>,
) -> DelayHistogram {
    round_trip.shifted_down(service.quantile_ns(0.5), label)
}

/// The two histograms of a calibration file that the defaults need (the file has more;
/// they are ignored here, so this module does not depend on the calibration's type).
#[derive(Deserialize)]
struct BundledCalibration {
    round_trip: DelayHistogram,
    service: DelayHistogram,
}

/// Network delay and service time of [`LOOPBACK_CALIBRATION_JSON`].
static LOOPBACK: LazyLock<(Arc<DelayHistogram>, Arc<DelayHistogram>)> = LazyLock::new(|| {
    let c: BundledCalibration = serde_json::from_str(LOOPBACK_CALIBRATION_JSON)
        .expect("the bundled loopback calibration parses (a unit test checks it)");
    (
        Arc::new(network_delay(&c.round_trip, &c.service, "loopback-net")),
        Arc::new(c.service.relabel("loopback-service")),
    )
});

/// The default network delay per round trip: memcached 1.6.18 on loopback, as measured.
pub fn loopback_rtt() -> Arc<DelayHistogram> {
    Arc::clone(&LOOPBACK.0)
}

/// The default service time per request: memcached 1.6.18 on loopback, as measured.
pub fn loopback_service() -> Arc<DelayHistogram> {
    Arc::clone(&LOOPBACK.1)
}

impl DelayHistogram {
    /// The same histogram under another label.
    pub fn relabel(mut self, label: impl Into<String>) -> DelayHistogram {
        self.label = label.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn samples_follow_the_histogram_and_repeat_for_a_seed() {
        // 3/4 of the samples in [10, 20) µs, 1/4 in [100, 110) µs.
        let h = DelayHistogram::from_buckets("t".into(), 10_000, vec![(1, 3), (10, 1)]).unwrap();
        assert_eq!(h.samples(), 4);
        assert_eq!(h.mean_ns(), (3.0 * 15_000.0 + 105_000.0) / 4.0);
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..4000).map(|_| h.sample(&mut rng)).collect::<Vec<_>>()
        };
        let xs = draw(5);
        assert_eq!(xs, draw(5));
        assert_ne!(xs, draw(6));
        let high = xs.iter().filter(|&&x| x >= 100_000).count();
        assert!((900..1100).contains(&high), "{high}");
        assert!(
            xs.iter()
                .all(|&x| (10_000..20_000).contains(&x) || (100_000..110_000).contains(&x))
        );
        let distinct: std::collections::BTreeSet<_> = xs.iter().collect();
        assert!(distinct.len() > 3000, "draws spread inside the buckets");
        assert_eq!(h.quantile_ns(0.5), 15_000);
        assert_eq!(h.quantile_ns(1.0), 105_000);
        assert_eq!(h.to_string(), "t[p10=15us,p50=15us,p90=105us,p99=105us]");
    }

    #[test]
    fn from_samples_buckets_and_shifts() {
        let h = DelayHistogram::from_samples("rtt", 100, [250, 260, 999, 50]).unwrap();
        assert_eq!(h.buckets, vec![(0, 1), (2, 2), (9, 1)]);
        let s = h.shifted_down(300, "net");
        assert_eq!(s.buckets, vec![(0, 3), (6, 1)]);
        assert_eq!((s.samples(), s.label()), (4, "net"));
        assert!(DelayHistogram::from_samples("x", 100, []).is_err());
        assert!(DelayHistogram::from_buckets("x".into(), 10, vec![(2, 1), (1, 1)]).is_err());
        assert!(DelayHistogram::from_buckets("x".into(), 10, vec![(2, 0)]).is_err());
        // A file round trip keeps it, and a bad file is refused.
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<DelayHistogram>(&json).unwrap(), h);
        assert!(
            serde_json::from_str::<DelayHistogram>(
                r#"{"label":"x","bucket_ns":0,"buckets":[[1,1]]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn the_bundled_loopback_calibration_loads_and_has_jitter() {
        let (rtt, service) = (loopback_rtt(), loopback_service());
        assert!(rtt.samples() >= 1000 && service.samples() >= 100);
        assert!(rtt.quantile_ns(0.9) > rtt.quantile_ns(0.1), "{rtt}");
        assert!(service.mean_ns() > 0.0 && service.mean_ns() < rtt.mean_ns());
    }
}
