//! The measured serving order: which connection a live server served next while N
//! connections sent requests at once, recorded by calibration
//! ([`super::calibrate::measure_concurrent`]) and replayed by the simulation.
//!
//! Why a recorded order and not only delays: when clients outnumber the machine's cores,
//! who gets to send when is the kernel scheduler's decision, and a client that holds a
//! core sends and hears back several times while the others wait. Whether a `cas` fails
//! depends on exactly that: how many other writes the server serves between a client's
//! `gets` and its `cas`. Round-trip histograms drawn independently (even with the measured
//! persistence) carry the spread of the delays but not that order, and over-predicted the
//! failures by up to 42% (README, "How close the simulation comes").
//!
//! The model's assumption: the order in which a server serves busy connections does not
//! depend on what they ask (a read and a write of one small counter cost it about the
//! same; a `cas` loop and the calibration's requests differ only in which writes take
//! effect). So calibration measures it
//! with requests whose replies reveal it: every connection cycles through `get`, `incr`,
//! `gets`, `incr` on **one shared key**. The `incr`s number the writes (the value returned
//! is the write's place), a read that saw value `v` was served between write `v` and write
//! `v + 1`, and reads between the same two writes are ordered by when their replies
//! arrived ([`ServingOrder::reconstruct`]). Only the places where every connection was
//! busy are kept: at a session's start and end fewer contend, and with them kept the
//! replayed failures at 16 clients came out 10–20% lower.
//!
//! [`replay`] gives each served place to the simulated client mapped to that connection,
//! which sends whatever its strategy asks next (a `gets`, a `cas`, a `set`…) against the
//! same [`crate::memcached::Store`] model the discrete-event simulator uses. The order is
//! replayed in stretches ([`STRETCH_PER_CLIENT`]), each from a seeded place with a seeded
//! mapping of connections to clients, so a seed gives the same bytes and `--repeat` gives
//! different samples of the one measurement. A run with think
//! time or backoff cannot be replayed (its waits would change the order), and the
//! workload refuses that combination.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::ContentionError;
use super::backend::apply;
use super::client::Action;
use super::config::Workload;
use super::result::RunOutcome;
use super::sim::CounterRun;

/// One request a calibration connection made on the shared key, as its reply told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// `true` for an `incr` (its reply is the counter after it), `false` for a read (its
    /// reply is the counter it saw).
    pub write: bool,
    /// The counter's value in the reply.
    pub value: u64,
    /// When the reply arrived, ns since the connections started together.
    pub reply_ns: u64,
}

/// The order in which a server served `clients` busy connections, with when each reply
/// arrived. Saved in a calibration (`concurrent[].serving_order`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServingOrder {
    /// Connections that sent at once.
    pub clients: u32,
    /// The connection (`0..clients`) served at each place, in serving order.
    pub served: Vec<u32>,
    /// When each place's reply reached its connection, ns since the start, never
    /// decreasing (a reply that arrived before the previous place's is given that
    /// place's time). Saved as the gaps between places (`reply_gap_ns`), which take a
    /// third of the digits.
    #[serde(rename = "reply_gap_ns", with = "gaps")]
    pub reply_ns: Vec<u64>,
}

/// A non-decreasing sequence saved as its first value and the differences after it.
mod gaps {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(times: &[u64], s: S) -> Result<S::Ok, S::Error> {
        let mut previous = 0;
        let gaps: Vec<u64> = times
            .iter()
            .map(|&t| {
                let gap = t.saturating_sub(previous);
                previous = t;
                gap
            })
            .collect();
        gaps.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        let mut time = 0u64;
        Vec::<u64>::deserialize(d)?
            .into_iter()
            .map(|gap| {
                time = time
                    .checked_add(gap)
                    .ok_or_else(|| serde::de::Error::custom("reply times overflow"))?;
                Ok(time)
            })
            .collect()
    }
}

impl ServingOrder {
    /// The serving order of `connections` (each connection's requests in the order it
    /// made them) on a counter that stood at `initial`. Refused, with why, when the
    /// replies cannot come from these requests alone: the writes' values must be exactly
    /// `initial + 1 ..= initial + writes`, each once (else something else wrote the key),
    /// and every connection must have made a request.
    pub fn reconstruct(connections: &[Vec<Observed>], initial: u64) -> Result<Self, String> {
        let clients = u32::try_from(connections.len())
            .map_err(|_| format!("{} connections are too many", connections.len()))?;
        if connections.is_empty() {
            return Err("no connections".into());
        }
        if let Some(idle) = connections.iter().position(Vec::is_empty) {
            return Err(format!("connection {idle} made no request"));
        }
        let writes: u64 = connections
            .iter()
            .flatten()
            .filter(|o| o.write)
            .count()
            .try_into()
            .expect("a count fits in u64");
        let mut seen = vec![false; writes as usize];
        // Write w takes place 2(w - initial); a read of v, place 2(v - initial) + 1.
        let mut places = Vec::with_capacity(connections.iter().map(Vec::len).sum());
        for (c, requests) in connections.iter().enumerate() {
            for o in requests {
                let step = o.value.checked_sub(initial).filter(|&s| s <= writes);
                let place = match (o.write, step) {
                    (true, Some(s))
                        if s >= 1 && !std::mem::replace(&mut seen[s as usize - 1], true) =>
                    {
                        2 * s
                    }
                    (false, Some(s)) => 2 * s + 1,
                    _ => {
                        return Err(format!(
                            "connection {c} saw the counter at {} after {writes} increments \
                             from {initial}: another client changed the calibration key",
                            o.value
                        ));
                    }
                };
                places.push((place, o.reply_ns, c as u32));
            }
        }
        places.sort_unstable();
        // Only while every connection is busy: from the last one's first place to the
        // first one's last place. Before, some had not started; after, some have finished,
        // and fewer connections contend than were measured.
        let mut first = vec![usize::MAX; connections.len()];
        let mut last = vec![0; connections.len()];
        for (i, &(_, _, c)) in places.iter().enumerate() {
            first[c as usize] = first[c as usize].min(i);
            last[c as usize] = i;
        }
        let from = first.iter().copied().max().unwrap_or(0);
        let to = last.iter().copied().min().unwrap_or(0);
        if from > to {
            return Err("the connections were never all busy at once".into());
        }
        let places = &places[from..=to];
        let mut latest = 0;
        let reply_ns = places
            .iter()
            .map(|&(_, ns, _)| {
                latest = latest.max(ns);
                latest
            })
            .collect();
        Ok(ServingOrder {
            clients,
            served: places.iter().map(|&(_, _, c)| c).collect(),
            reply_ns,
        })
    }

    /// `later`'s places after this order's, its times shifted to continue from this
    /// order's last: one order from several sessions of the same connection count.
    pub fn append(&mut self, later: ServingOrder) {
        let shift = self.reply_ns.last().copied().unwrap_or(0);
        self.clients = self.clients.max(later.clients);
        self.served.extend(later.served);
        self.reply_ns.extend(
            later
                .reply_ns
                .into_iter()
                .map(|ns| ns.saturating_add(shift)),
        );
    }

    /// Places recorded.
    pub fn len(&self) -> usize {
        self.served.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.served.is_empty()
    }

    /// Refuses an order that cannot be replayed: no places, a connection outside
    /// `0..clients`, a connection never served (its client would wait for ever), or
    /// times that go backwards or do not match the places.
    pub fn check(&self) -> Result<(), String> {
        if self.served.is_empty() {
            return Err("the serving order is empty".into());
        }
        if self.reply_ns.len() != self.served.len() {
            return Err(format!(
                "the serving order has {} places but {} reply times",
                self.served.len(),
                self.reply_ns.len()
            ));
        }
        let mut count = vec![0u64; self.clients as usize];
        for &c in &self.served {
            *count
                .get_mut(c as usize)
                .ok_or_else(|| format!("connection {c} served, of {}", self.clients))? += 1;
        }
        if let Some(c) = count.iter().position(|&n| n == 0) {
            return Err(format!("connection {c} is never served"));
        }
        if self.reply_ns.windows(2).any(|w| w[1] < w[0]) {
            return Err("the serving order's reply times go backwards".into());
        }
        Ok(())
    }

    /// The label rows carry: `measured@N[places]`.
    pub fn label(&self) -> String {
        format!("measured@{}[{} places]", self.clients, self.served.len())
    }
}

/// Places a replay takes from one stretch of the order per client, before it moves to
/// another stretch: long enough to hold many of a client's `gets`–`cas` windows (a few
/// places per client each), short enough that a run of a thousand updates per client
/// draws from dozens of stretches, so one long scheduler episode in the recording does
/// not decide a whole run. (With the whole order as one stretch, five replays of one
/// calibration at 2 clients ranged from 0.17 to 0.73 CAS failures per update.)
pub const STRETCH_PER_CLIENT: usize = 128;

/// The places a replay serves, for ever: stretches of [`STRETCH_PER_CLIENT`] places per
/// client (the whole order at most), each from a seeded place in the order with a seeded
/// mapping of connections to clients, wrapping past the order's end to its beginning.
/// Each item is the client served and the simulated time its reply arrives: the recorded
/// time since the stretch began, after the simulated time the previous stretch ended.
struct Schedule<'a> {
    order: &'a ServingOrder,
    rng: ChaCha8Rng,
    client_of: Vec<u32>,
    /// The next place (may run past the order's end: taken modulo its length).
    at: usize,
    /// Where the stretch ends.
    end: usize,
    /// Recorded time of the stretch's first place.
    start_ns: u64,
    /// Simulated time the stretch began at.
    offset_ns: u64,
    /// Simulated time of the last place served.
    now: u64,
}

impl<'a> Schedule<'a> {
    fn new(order: &'a ServingOrder, seed: u64) -> Schedule<'a> {
        Schedule {
            order,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6F72_6465_7200_0000),
            client_of: (0..order.clients).collect(),
            at: 0,
            end: 0,
            start_ns: 0,
            offset_ns: 0,
            now: 0,
        }
    }

    fn begin_stretch(&mut self) {
        let n = self.order.len();
        self.at = self.rng.random_range(0..n);
        self.client_of.shuffle(&mut self.rng);
        let stretch = (self.order.clients as usize).saturating_mul(STRETCH_PER_CLIENT);
        self.end = self.at + stretch.min(n);
        self.start_ns = self.order.reply_ns[self.at];
        self.offset_ns = self.now;
    }
}

impl Iterator for Schedule<'_> {
    type Item = (u32, u64);

    fn next(&mut self) -> Option<(u32, u64)> {
        if self.at == self.end {
            self.begin_stretch();
        }
        let order = self.order;
        let n = order.len();
        let i = self.at % n;
        let recorded = if self.at < n {
            order.reply_ns[i] - self.start_ns
        } else {
            // Past the end: the beginning's times continue from the last.
            order.reply_ns[n - 1] - self.start_ns + order.reply_ns[i]
        };
        self.at += 1;
        self.now = self.now.max(self.offset_ns.saturating_add(recorded));
        Some((self.client_of[order.served[i] as usize], self.now))
    }
}

/// Runs `workload` by replaying `order`, in stretches of [`STRETCH_PER_CLIENT`] places
/// per client from seeded places with seeded mappings of connections to clients: each
/// place serves the pending request of the client its connection maps to (a finished
/// client's places are skipped), and the reply reaches the client at the place's time.
/// The workload must have
/// `order.clients` clients, no think time and no backoff ([`Workload::validate`]).
pub fn replay(workload: &Workload, order: &ServingOrder) -> Result<RunOutcome, ContentionError> {
    workload.validate()?;
    let mut run = CounterRun::new(workload)?;
    let picker = &run.picker;
    let mut pending: Vec<Action> = run.clients.iter_mut().map(|c| c.start(0, picker)).collect();
    let mut unfinished = pending.iter().filter(|a| **a != Action::Finished).count();
    let (mut requests, mut last) = (0u64, 0u64);
    let mut schedule = Schedule::new(order, workload.seed);
    while unfinished > 0 {
        let (id, now) = schedule.next().expect("a schedule never ends");
        let slot = id as usize;
        let Action::Send { op, key, delay } = pending[slot] else {
            continue;
        };
        debug_assert_eq!(delay, 0, "validate refuses think time and backoff");
        requests += 1;
        let reply = apply(&mut run.backend, &run.keys[key as usize], op)?;
        pending[slot] = run.clients[slot].on_reply(now, reply, &run.picker);
        if pending[slot] == Action::Finished {
            unfinished -= 1;
            last = now;
        }
    }
    run.outcome(last, requests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contention::config::Strategy;
    use proptest::prelude::{ProptestConfig, prop_assert_eq, proptest};
    use std::sync::Arc;

    fn read(value: u64, reply_ns: u64) -> Observed {
        Observed {
            write: false,
            value,
            reply_ns,
        }
    }

    fn write(value: u64, reply_ns: u64) -> Observed {
        Observed {
            write: true,
            value,
            reply_ns,
        }
    }

    /// Two connections on a counter at 10. Served in truth: A reads 10, B reads 10, A
    /// writes 11, B writes 12, B reads 12, A reads 12, A writes 13; then B alone. A read of
    /// `v` sits after write `v`; the two reads of 10 and the two of 12 go by their reply
    /// times. Only the places where both were busy stay, from B's first to A's last: A's
    /// first read, served before B began, and B's last, served after A finished, are cut.
    #[test]
    fn reconstruct_by_hand() {
        let a = vec![read(10, 5), write(11, 20), read(12, 45), write(13, 60)];
        let b = vec![read(10, 8), write(12, 30), read(12, 40), read(13, 70)];
        let order = ServingOrder::reconstruct(&[a, b], 10).unwrap();
        assert_eq!(order.clients, 2);
        assert_eq!(order.served, [1, 0, 1, 1, 0, 0]);
        assert_eq!(order.reply_ns, [8, 20, 30, 40, 45, 60]);
        order.check().unwrap();
        assert_eq!(order.label(), "measured@2[6 places]");
    }

    /// Only while all are busy: a connection that starts late cuts the places before its
    /// first, and a reply that arrived earlier than the place before it keeps that time.
    #[test]
    fn reconstruct_cuts_the_head_and_keeps_times_from_going_back() {
        let a = vec![write(1, 10), write(2, 20), write(4, 35), write(5, 50)];
        let b = vec![write(3, 40), write(6, 60)];
        let order = ServingOrder::reconstruct(&[a, b], 0).unwrap();
        assert_eq!(order.served, [1, 0, 0]);
        assert_eq!(order.reply_ns, [40, 40, 50]);
    }

    #[test]
    fn reconstruct_refuses_replies_its_requests_cannot_explain() {
        let refused = |c: &[Vec<Observed>]| ServingOrder::reconstruct(c, 0).unwrap_err();
        // The same write place twice, a write past the count, a read past the writes.
        let twice = refused(&[vec![write(1, 1)], vec![write(1, 2)]]);
        assert!(
            twice.contains("another client changed the calibration key"),
            "{twice}"
        );
        assert!(refused(&[vec![write(3, 1)], vec![write(1, 2)]]).contains("saw the counter at 3"));
        assert!(refused(&[vec![read(2, 1)], vec![write(1, 2)]]).contains("saw the counter at 2"));
        assert!(refused(&[vec![write(1, 1)], vec![]]).contains("connection 1 made no request"));
        assert!(refused(&[]).contains("no connections"));
        // A finished before B began; and A before B before C.
        let apart = refused(&[vec![write(1, 1)], vec![write(2, 2)]]);
        assert!(apart.contains("never all busy"), "{apart}");
        let apart = refused(&[vec![write(1, 1)], vec![write(2, 2)], vec![write(3, 3)]]);
        assert!(apart.contains("never all busy"), "{apart}");
    }

    #[test]
    fn check_refuses_orders_that_cannot_be_replayed() {
        let order = |served: Vec<u32>, reply_ns: Vec<u64>| ServingOrder {
            clients: 2,
            served,
            reply_ns,
        };
        assert!(order(vec![], vec![]).check().unwrap_err().contains("empty"));
        assert!(
            order(vec![0, 1], vec![1])
                .check()
                .unwrap_err()
                .contains("reply times")
        );
        assert!(
            order(vec![0, 2], vec![1, 2])
                .check()
                .unwrap_err()
                .contains("connection 2")
        );
        assert!(
            order(vec![0, 0], vec![1, 2])
                .check()
                .unwrap_err()
                .contains("never served")
        );
        assert!(
            order(vec![0, 1], vec![2, 1])
                .check()
                .unwrap_err()
                .contains("backwards")
        );
        order(vec![0, 1], vec![1, 1]).check().unwrap();
    }

    #[test]
    fn append_continues_the_times() {
        let mut a = ServingOrder {
            clients: 2,
            served: vec![0, 1],
            reply_ns: vec![5, 9],
        };
        a.append(ServingOrder {
            clients: 2,
            served: vec![1, 0],
            reply_ns: vec![3, 4],
        });
        assert_eq!(a.served, [0, 1, 1, 0]);
        assert_eq!(a.reply_ns, [5, 9, 12, 13]);
    }

    fn workload(strategy: Strategy, order: ServingOrder, updates: u64) -> Workload {
        Workload {
            strategy,
            clients: order.clients,
            updates_per_client: updates,
            initial: Some(42),
            serving_order: Some(Arc::new(order)),
            ..Workload::default()
        }
    }

    fn alternating(places: usize) -> ServingOrder {
        ServingOrder {
            clients: 2,
            served: (0..places as u32).map(|i| i % 2).collect(),
            reply_ns: (0..places as u64).map(|i| 1_000 * (i + 1)).collect(),
        }
    }

    /// The seed's race on a server that serves two clients in turn (any stretch of an
    /// alternating order alternates, wrapping included). cas: A `gets` 42, B `gets` 42, A's
    /// `cas` stores 43, B's fails; A is done, so B runs alone: `gets` 43, `cas` 44. naive:
    /// both `get` 42 and both `set` 43, one update lost.
    #[test]
    fn the_seed_race_served_in_turn() {
        let row = |strategy| {
            let w = workload(strategy, alternating(8), 1);
            crate::contention::ContentionRow::new(
                crate::contention::Mode::Sim,
                &w,
                &replay(&w, w.serving_order.as_ref().unwrap()).unwrap(),
            )
        };
        let cas = row(Strategy::Cas);
        assert_eq!(
            (cas.final_total, cas.requests, cas.cas_failures),
            (44, 6, 1)
        );
        assert_eq!(cas.serving_order.as_deref(), Some("measured@2[8 places]"));
        assert_eq!((cas.rtt_dist.as_deref(), cas.rtt_ns), (None, None));
        let naive = row(Strategy::Naive);
        assert_eq!(
            (naive.final_total, naive.lost_updates, naive.requests),
            (43, 1, 4)
        );
    }

    /// A slow model of the two strategies on the schedule the replay follows: a `cas`
    /// succeeds when no write was served since the client's `gets`; a naive `set` writes
    /// what its `get` read plus one. Counter at 42, every place a request of its client
    /// until the client is done. The final value, and each client's requests and CAS
    /// failures.
    fn model(
        strategy: Strategy,
        order: &ServingOrder,
        updates: u64,
        seed: u64,
    ) -> (u64, Vec<(u64, u64)>) {
        let clients = order.clients as usize;
        let (mut value, mut version) = (42u64, 0u64);
        let mut read: Vec<Option<(u64, u64)>> = vec![None; clients];
        let mut left = vec![updates; clients];
        let mut counts = vec![(0, 0); clients];
        let mut schedule = Schedule::new(order, seed);
        while left.iter().any(|&l| l > 0) {
            let (c, _) = schedule.next().unwrap();
            let c = c as usize;
            if left[c] == 0 {
                continue;
            }
            counts[c].0 += 1;
            match read[c].take() {
                None => read[c] = Some((value, version)),
                Some((seen, seen_version)) => {
                    let stored = strategy == Strategy::Naive || seen_version == version;
                    if stored {
                        value = seen + 1;
                        version += 1;
                        left[c] -= 1;
                    } else {
                        counts[c].1 += 1;
                    }
                }
            }
        }
        (value, counts)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Replaying any order through the real clients and store gives the slow model's
        /// final value, and each client's requests and CAS failures, on the same schedule.
        #[test]
        fn replay_agrees_with_a_slow_model(
            clients in 1u32..5,
            extra in proptest::collection::vec(0u32..4, 0..200),
            updates in 1u64..30,
            seed in 0u64..1_000,
            cas: bool,
        ) {
            // Every connection served at least once, then a random tail.
            let served: Vec<u32> = (0..clients)
                .chain(extra.into_iter().map(|c| c % clients))
                .collect();
            let order = ServingOrder {
                clients,
                reply_ns: (0..served.len() as u64).map(|i| 10 * i).collect(),
                served,
            };
            let strategy = if cas { Strategy::Cas } else { Strategy::Naive };
            let w = Workload { seed, ..workload(strategy, order.clone(), updates) };
            let out = replay(&w, &order).unwrap();
            let counts: Vec<(u64, u64)> =
                out.clients.iter().map(|c| (c.requests, c.cas_failures)).collect();
            prop_assert_eq!(
                (out.final_total, counts.clone()),
                model(strategy, &order, updates, seed)
            );
            prop_assert_eq!(out.requests, counts.iter().map(|c| c.0).sum::<u64>());
            // A seed repeats itself.
            let again = replay(&w, &order).unwrap();
            prop_assert_eq!((again.final_total, again.elapsed_ns), (out.final_total, out.elapsed_ns));
        }
    }

    #[test]
    fn a_workload_refuses_an_order_it_cannot_replay() {
        let base = workload(Strategy::Cas, alternating(8), 1);
        let refused = |w: Workload| w.validate().unwrap_err().to_string();
        assert!(
            refused(Workload {
                clients: 3,
                ..base.clone()
            })
            .contains("measured with 2 clients")
        );
        assert!(
            refused(Workload {
                think: "1us".parse().unwrap(),
                ..base.clone()
            })
            .contains("think time or backoff")
        );
        assert!(
            refused(Workload {
                backoff: "exp".parse().unwrap(),
                ..base.clone()
            })
            .contains("think time or backoff")
        );
        let empty = ServingOrder {
            clients: 2,
            served: vec![],
            reply_ns: vec![],
        };
        assert!(
            refused(Workload {
                serving_order: Some(Arc::new(empty)),
                ..base
            })
            .contains("empty")
        );
    }
}
