//! The deterministic discrete-event simulation: clients, a network with a round-trip
//! distribution, and one FIFO server with a service-time distribution, over the same
//! [`Store`] model the TCP server serves. No threads, no wall clock: time is a `u64` of
//! simulated nanoseconds and every random draw comes from seeded generators, so a seed
//! fixes the exact interleaving of every request and the output byte for byte.
//!
//! A request sent at `t` with round trip `r` (sampled per request) reaches the server at
//! `t + r/2`. The server handles requests in arrival order: the store operation runs at the
//! arrival instant (FIFO, so this is also the order they are served in), the server is busy
//! until `max(arrival, free) + service`, and the reply reaches the client `r - r/2` later.
//! Events at equal times run in the order they were scheduled, with one exception: an event
//! scheduled for *the current instant* (zero delay) runs before anything else, so a client
//! whose whole round trip takes no time finishes its update atomically. That is what zero
//! round trip means — with no network and no service time, `get`+`set` cannot be
//! interleaved, and the naive strategy loses nothing. (Service time alone still opens the
//! window: requests queue behind each other at the server.)

use std::hint::select_unpredictable;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ContentionError;
use super::backend::{CounterBackend, CounterOp, Reply, StoreBackend, apply};
use super::client::{Action, CounterClient};
use super::config::Workload;
use super::result::RunOutcome;
use super::streaks::Streaks;
use crate::memcached::{ServerClock, Settings, Store};
use crate::trace::key_dist::KeyPicker;

/// Bits of an event's tie-breaker that hold the client id; the rest count events, so a run
/// may schedule up to 2^44 events.
const CLIENT_BITS: u32 = 20;
const CLIENT_MASK: u64 = (1 << CLIENT_BITS) - 1;
/// Most clients the simulator takes.
pub const MAX_CLIENTS: u32 = 1 << CLIENT_BITS;

/// An empty leaf: later than any event (an event's tie-breaker never has every bit set).
const NO_EVENT: (u64, u64) = (u64::MAX, u64::MAX);

/// The event queue: every client has at most one event pending (its request on the way to
/// the server, or the reply on the way back), so a tournament tree over the clients is
/// enough — setting a client's event replays the log₂(clients) matches above it, with no
/// sifting and predictable branches, and the root is the next event.
///
/// An event's key is its time, then its tie-breaker (`seq << CLIENT_BITS | client`); both
/// halves live in their own `u64` array. The match winner climbs in registers, each level
/// reading only the sibling, so no load waits on a store still in flight, and no branch
/// depends on who wins.
#[derive(Debug, Clone)]
struct EventTree {
    /// Leaves at `leaves..2 * leaves`; node `n` holds the smaller of `2n` and `2n + 1`.
    time: Vec<u64>,
    tie: Vec<u64>,
    leaves: usize,
}

impl EventTree {
    fn new(clients: usize) -> EventTree {
        let leaves = clients.max(1).next_power_of_two();
        EventTree {
            time: vec![NO_EVENT.0; 2 * leaves],
            tie: vec![NO_EVENT.1; 2 * leaves],
            leaves,
        }
    }

    #[inline]
    fn set(&mut self, client: u32, (mut time, mut tie): (u64, u64)) {
        // Equal lengths: one bounds check covers both arrays.
        let times = &mut self.time[..];
        let ties = &mut self.tie[..times.len()];
        let mut n = self.leaves + client as usize;
        times[n] = time;
        ties[n] = tie;
        while n > 1 {
            let sibling = n ^ 1;
            let (t, s) = (times[sibling], ties[sibling]);
            // Which side wins is a coin toss: select without a branch the predictor would
            // miss half the time.
            let sibling_wins = (t < time) | ((t == time) & (s < tie));
            time = select_unpredictable(sibling_wins, t, time);
            tie = select_unpredictable(sibling_wins, s, tie);
            n /= 2;
            times[n] = time;
            ties[n] = tie;
        }
    }

    fn clear(&mut self, client: u32) {
        let leaf = self.leaves + client as usize;
        if (self.time[leaf], self.tie[leaf]) != NO_EVENT {
            self.set(client, NO_EVENT);
        }
    }

    /// The next event as (time, tie-breaker).
    fn min(&self) -> Option<(u64, u64)> {
        // With one leaf, node 1 is that leaf.
        let root = (self.time[1], self.tie[1]);
        (root != NO_EVENT).then_some(root)
    }
}

#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The request is on its way to the server; `back` is the reply's one-way delay.
    Arrive {
        op: CounterOp,
        key: u32,
        back: u64,
    },
    /// The reply is on its way to the client.
    Reply(Reply),
    Idle,
}

struct Sim<'a> {
    workload: &'a Workload,
    now: u64,
    seq: u64,
    /// Each client's pending event, ordered by time, then by scheduling order.
    events: EventTree,
    immediate: Vec<u32>,
    pending: Vec<Pending>,
    net: ChaCha8Rng,
    server_free: u64,
    /// Each client's last round trip, for [`Workload::rtt_persistence`] (`None` before
    /// its first request).
    last_rtt: Vec<Option<u64>>,
}

impl<'a> Sim<'a> {
    /// Nothing sent yet, at time 0, for `clients` clients.
    fn new(workload: &'a Workload, clients: usize) -> Sim<'a> {
        Sim {
            workload,
            now: 0,
            seq: 0,
            events: EventTree::new(clients),
            immediate: Vec::new(),
            pending: vec![Pending::Idle; clients],
            net: ChaCha8Rng::seed_from_u64(workload.seed ^ 0x6E65_7477_6F72_6B00),
            server_free: 0,
            last_rtt: vec![None; clients],
        }
    }

    #[inline]
    fn push(&mut self, at: u64, client: u32, initial: bool) {
        if at == self.now && !initial {
            // The client's leaf may still hold the event being handled.
            self.events.clear(client);
            self.immediate.push(client);
        } else {
            let tie = (self.seq << CLIENT_BITS) | u64::from(client);
            self.events.set(client, (at, tie));
            self.seq += 1;
        }
    }

    /// The round trip of `client`'s next request: its last one again with probability
    /// [`Workload::rtt_persistence`], else a fresh draw. Without persistence no extra
    /// random number is drawn, so such runs repeat the bytes they gave before it existed.
    fn round_trip(&mut self, client: u32) -> u64 {
        let persistence = self.workload.rtt_persistence;
        let last = &mut self.last_rtt[client as usize];
        let rtt = match *last {
            Some(previous) if persistence > 0.0 && self.net.random_bool(persistence) => previous,
            _ => self.workload.rtt.sample(&mut self.net),
        };
        *last = Some(rtt);
        rtt
    }

    fn send(&mut self, client: u32, op: CounterOp, key: u32, delay: u64, initial: bool) {
        let rtt = self.round_trip(client);
        let forward = rtt / 2;
        self.pending[client as usize] = Pending::Arrive {
            op,
            key,
            back: rtt - forward,
        };
        let at = self.now.saturating_add(delay).saturating_add(forward);
        self.push(at, client, initial);
    }
}

/// What a simulated run drives, whether it draws delays or replays a measured order: the
/// in-process store with every counter preset to `workload.initial`, the counters' names,
/// the key picker, and one client per id (sharing the run's update streaks).
pub(super) struct CounterRun {
    pub(super) backend: StoreBackend,
    pub(super) keys: Vec<Vec<u8>>,
    pub(super) picker: KeyPicker,
    pub(super) clients: Vec<CounterClient>,
    streaks: Arc<Streaks>,
}

impl CounterRun {
    /// A fresh store and clients for `workload` (already validated).
    pub(super) fn new(workload: &Workload) -> Result<CounterRun, ContentionError> {
        // A manual clock: no wall time reaches the store, and nothing here expires.
        let store = Store::new(Settings::default(), ServerClock::manual(1))?;
        let mut backend = StoreBackend::new(store);
        let keys = workload.key_names();
        if let Some(initial) = workload.initial {
            for key in &keys {
                backend.set(key, initial)?;
            }
        }
        let streaks = Arc::new(Streaks::default());
        Ok(CounterRun {
            backend,
            picker: workload.picker()?,
            clients: (0..workload.clients)
                .map(|id| CounterClient::new(id, workload, &streaks))
                .collect(),
            keys,
            streaks,
        })
    }

    /// The run's outcome: every client's counts, and the sum of every counter (missing
    /// ones count 0), read after the store's CAS counters.
    pub(super) fn outcome(
        mut self,
        elapsed_ns: u64,
        requests: u64,
    ) -> Result<RunOutcome, ContentionError> {
        let cas_counters = self.backend.cas_counters()?.unwrap_or_default();
        let mut final_total = 0u64;
        for key in &self.keys {
            final_total = final_total.wrapping_add(self.backend.get(key)?.unwrap_or(0));
        }
        Ok(RunOutcome {
            clients: self
                .clients
                .into_iter()
                .map(CounterClient::into_stats)
                .collect(),
            final_total,
            elapsed_ns,
            requests,
            cas_counters,
            update_streak_mean: self.streaks.mean(),
        })
    }
}

/// Runs `workload` in simulated time: by replaying its measured serving order when it
/// has one ([`super::serving_order::replay`]), else with its delays.
pub fn run(workload: &Workload) -> Result<RunOutcome, ContentionError> {
    if let Some(order) = &workload.serving_order {
        return super::serving_order::replay(workload, order);
    }
    workload.validate()?;
    if workload.clients > MAX_CLIENTS {
        return Err(super::WorkloadError::Invalid(format!(
            "sim mode takes at most {MAX_CLIENTS} clients, not {}",
            workload.clients
        ))
        .into());
    }
    let mut run = CounterRun::new(workload)?;
    let mut sim = Sim::new(workload, run.clients.len());
    for (id, client) in run.clients.iter_mut().enumerate() {
        if let Action::Send { op, key, delay } = client.start(0, &run.picker) {
            sim.send(id as u32, op, key, delay, true);
        }
    }
    let mut requests = 0u64;
    let mut last = 0u64;
    loop {
        let id = if let Some(id) = sim.immediate.pop() {
            id
        } else if let Some((time, tie)) = sim.events.min() {
            // The leaf stays until the client's next event replaces or clears it.
            sim.now = time;
            (tie & CLIENT_MASK) as u32
        } else {
            break;
        };
        let slot = id as usize;
        match sim.pending[slot] {
            Pending::Arrive { op, key, back } => {
                requests += 1;
                let reply = apply(&mut run.backend, &run.keys[key as usize], op)?;
                let service = workload.service.sample(&mut sim.net);
                let done = sim.now.max(sim.server_free).saturating_add(service);
                sim.server_free = done;
                sim.pending[slot] = Pending::Reply(reply);
                sim.push(done.saturating_add(back), id, false);
            }
            Pending::Reply(reply) => {
                sim.pending[slot] = Pending::Idle;
                match run.clients[slot].on_reply(sim.now, reply, &run.picker) {
                    Action::Send { op, key, delay } => sim.send(id, op, key, delay, false),
                    Action::Finished => {
                        sim.events.clear(id);
                        last = last.max(sim.now);
                    }
                }
            }
            Pending::Idle => {}
        }
    }
    run.outcome(last, requests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contention::config::{Backoff, Delay, Strategy};
    use crate::contention::{ContentionSweep, Mode, run, run_sweep};
    use crate::trace::KeyDist;
    use Strategy as CounterStrategy;
    use proptest::prelude::{
        Just, ProptestConfig, prop_assert, prop_assert_eq, prop_oneof, proptest,
    };
    use proptest::strategy::Strategy as PropStrategy;

    fn fixed(rtt_us: u64) -> Workload {
        Workload {
            rtt: Delay::Fixed(rtt_us * 1000),
            service: Delay::ZERO,
            ..Workload::default()
        }
    }

    /// The seed's race, worked by hand. Counter at 42; two clients, one update each; the
    /// round trip is 100 µs (50 each way), the server takes no time, ties go in the order
    /// scheduled (client 0 first).
    ///
    /// ```text
    ///   0 µs  c0, c1 send gets
    ///  50 µs  server: c0 gets → 42 cas=A; c1 gets → 42 cas=A
    /// 100 µs  both send cas 43 A
    /// 150 µs  server: c0 cas → STORED (cas=B); c1 cas A → EXISTS      ← the one CAS failure
    /// 200 µs  c0 done (latency 200); c1 sends gets again
    /// 250 µs  server: c1 gets → 43 cas=B
    /// 300 µs  c1 sends cas 44 B
    /// 350 µs  server: STORED
    /// 400 µs  c1 done (latency 400, one retry)
    /// ```
    ///
    /// So: 6 requests, 3 cas attempts, 1 failure (`cas_badval` 1, `cas_hits` 2), final 44.
    #[test]
    fn seed_race_two_clients_one_succeeds_the_other_retries_once() {
        let w = Workload {
            strategy: Strategy::Cas,
            clients: 2,
            updates_per_client: 1,
            initial: Some(42),
            ..fixed(100)
        };
        let out = run_outcome(&w);
        let row = crate::contention::ContentionRow::new(Mode::Sim, &w, &out);
        assert_eq!(
            (row.expected, row.final_total, row.lost_updates),
            (44, 44, 0)
        );
        assert_eq!(
            (row.requests, row.cas_attempts, row.cas_failures),
            (6, 3, 1)
        );
        assert_eq!((row.cas_hits, row.cas_badval, row.cas_misses), (2, 1, 0));
        assert_eq!((row.retries_mean, row.retries_max), (0.5, 1));
        assert_eq!(out.elapsed_ns, 400_000);
        assert_eq!(out.clients[0].retries.max(), 0);
        assert_eq!(out.clients[1].retries.max(), 1);
        // hdrhistogram keeps 3 significant digits.
        assert!(
            (row.latency_p50_us - 200.0).abs() < 0.5,
            "{}",
            row.latency_p50_us
        );
        assert!(
            (row.latency_max_us - 400.0).abs() < 0.5,
            "{}",
            row.latency_max_us
        );
        assert_eq!(row.throughput_per_s, 5000.0); // 2 updates in 400 µs
    }

    /// The naive version of the same schedule: both `get` 42 at 50 µs, both `set` 43 at
    /// 150 µs; one update is lost.
    #[test]
    fn seed_race_naive_loses_one_update() {
        let w = Workload {
            strategy: Strategy::Naive,
            clients: 2,
            updates_per_client: 1,
            initial: Some(42),
            ..fixed(100)
        };
        let row = run(Mode::Sim, &w).unwrap();
        assert_eq!(
            (row.expected, row.final_total, row.lost_updates),
            (44, 43, 1)
        );
        assert_eq!(row.requests, 4);
    }

    /// The same race with a lease (memcached's win token, see `contention::backend`):
    ///
    /// ```text
    ///   0 µs  c0, c1 send mg N R v c
    ///  50 µs  server: c0 wins (W, value 42, cas A); c1 loses (Z)
    /// 100 µs  c0 sends ms 43 C<A>; c1 asks again
    /// 150 µs  server: c0's ms → HD (a new item, cas B, no token out); then c1 wins (43, B)
    /// 200 µs  c0 done; c1 sends ms 44 C<B>
    /// 250 µs  server: HD
    /// 300 µs  c1 done
    /// ```
    ///
    /// No `cas` request: the two CAS stores are the lease writes, and neither fails.
    #[test]
    fn seed_race_with_a_lease_one_loss_and_no_cas_failure() {
        let w = Workload {
            strategy: Strategy::Lease,
            clients: 2,
            updates_per_client: 1,
            initial: Some(42),
            ..fixed(100)
        };
        let out = run_outcome(&w);
        let row = crate::contention::ContentionRow::new(Mode::Sim, &w, &out);
        assert_eq!(
            (row.final_total, row.lost_updates, row.lease_losses),
            (44, 0, 1)
        );
        assert_eq!((row.requests, row.cas_attempts, row.retries_max), (5, 2, 1));
        assert_eq!((row.cas_hits, row.cas_badval, row.cas_misses), (2, 0, 0));
        assert_eq!(out.elapsed_ns, 300_000);
    }

    /// Two clients race for the lease on a missing counter:
    ///
    /// ```text
    ///   0 µs  c0, c1 send mg N R v c
    ///  50 µs  server: c0's N creates an empty item and wins (W, no value, cas A);
    ///         c1 hits that item and loses (Z)
    /// 100 µs  c0 sends ms 1 C<A>; c1 asks again
    /// 150 µs  server: c0's ms → HD; c1 wins (1, cas B)
    /// 200 µs  c0 done; c1 sends ms 2 C<B>
    /// 250 µs  server: HD
    /// 300 µs  c1 done
    /// ```
    #[test]
    fn lease_race_on_a_missing_counter_one_wins_the_other_loses_once() {
        let w = Workload {
            strategy: Strategy::Lease,
            clients: 2,
            updates_per_client: 1,
            ..fixed(100)
        };
        let out = run_outcome(&w);
        let row = crate::contention::ContentionRow::new(Mode::Sim, &w, &out);
        assert_eq!((row.expected, row.final_total, row.lost_updates), (2, 2, 0));
        assert_eq!((row.lease_losses, row.misses, row.requests), (1, 1, 5));
        assert_eq!(out.clients[0].lease_losses, 0);
        assert_eq!(out.clients[1].lease_losses, 1);
        assert_eq!(out.elapsed_ns, 300_000);
    }

    /// incr on a missing counter: both clients' `incr` miss at 50 µs, both `add 1` at
    /// 150 µs, c1's add is `NOT_STORED`, it retries the `incr` at 250 µs → 2.
    #[test]
    fn incr_on_a_missing_counter_races_the_add_once() {
        let w = Workload {
            strategy: Strategy::Incr,
            clients: 2,
            updates_per_client: 1,
            ..fixed(100)
        };
        let row = run(Mode::Sim, &w).unwrap();
        assert_eq!((row.final_total, row.failed_adds, row.not_found), (2, 1, 2));
        assert_eq!(row.requests, 5);
    }

    #[test]
    fn zero_round_trip_naive_loses_nothing() {
        for think in [Delay::ZERO, Delay::Exp(1_000)] {
            let w = Workload {
                strategy: Strategy::Naive,
                clients: 8,
                updates_per_client: 1000,
                think: think.clone(),
                ..fixed(0)
            };
            let row = run(Mode::Sim, &w).unwrap();
            assert_eq!((row.final_total, row.lost_updates), (8000, 0), "{think}");
        }
    }

    #[test]
    fn naive_loses_updates_whenever_the_round_trip_is_not_zero() {
        for rtt in ["1ns", "200us", "exp:200us", "uniform:0-10us"] {
            for clients in [2, 4, 16] {
                let w = Workload {
                    strategy: Strategy::Naive,
                    clients,
                    updates_per_client: 1000,
                    rtt: rtt.parse().unwrap(),
                    think: Delay::Exp(50_000),
                    ..Workload::default()
                };
                let row = run(Mode::Sim, &w).unwrap();
                assert!(row.lost_updates > 0, "{rtt} {clients}");
                assert_eq!(
                    row.final_total as i64 + row.lost_updates,
                    row.expected as i64
                );
            }
        }
    }

    #[test]
    fn exact_strategies_never_lose_an_update() {
        let mut seed = 0;
        for strategy in [
            Strategy::Cas,
            Strategy::Incr,
            Strategy::Lease,
            Strategy::Naive,
        ] {
            for (keys, key_dist) in [
                (1, KeyDist::Hot),
                (4, KeyDist::Uniform),
                (16, KeyDist::Zipf { alpha: 1.0 }),
            ] {
                for backoff in [Backoff::None, "exp".parse().unwrap(), Backoff::Fixed(1_000)] {
                    for initial in [None, Some(7)] {
                        seed += 1;
                        let w = Workload {
                            strategy,
                            backoff,
                            clients: 5,
                            updates_per_client: 300,
                            keys,
                            key_dist: key_dist.clone(),
                            initial,
                            read_ratio: 0.2,
                            rtt: Delay::Exp(100_000),
                            service: Delay::Uniform(1_000, 9_000),
                            seed,
                            ..Workload::default()
                        };
                        let row = run(Mode::Sim, &w).unwrap();
                        assert_eq!(row.updates, 1500);
                        assert!(row.reads > 0);
                        assert_eq!(
                            row.final_total as i64 + row.lost_updates,
                            row.expected as i64
                        );
                        if strategy == Strategy::Naive {
                            assert!(row.lost_updates >= 0);
                        } else {
                            assert_eq!(row.lost_updates, 0, "{w:?}");
                        }
                        // The client's counts agree with the store's own.
                        assert_eq!(row.cas_badval, row.cas_failures);
                        assert_eq!(row.cas_misses, row.not_found.min(row.cas_misses));
                        assert_eq!(
                            row.cas_hits,
                            row.cas_attempts - row.cas_failures - row.cas_misses
                        );
                    }
                }
            }
        }
    }

    fn sweep(seed: u64) -> ContentionSweep {
        ContentionSweep {
            mode: Mode::Sim,
            server: None,
            clients: vec![1, 2, 4, 8],
            strategies: vec![
                Strategy::Naive,
                Strategy::Cas,
                Strategy::Incr,
                Strategy::Lease,
            ],
            backoffs: Vec::new(),
            base: Workload {
                updates_per_client: 200,
                keys: 3,
                key_dist: KeyDist::Zipf { alpha: 1.0 },
                backoff: "exp".parse().unwrap(),
                rtt: "uniform:100us-300us".parse().unwrap(),
                seed,
                ..Workload::default()
            },
        }
    }

    fn files(seed: u64) -> (Vec<u8>, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let rows = run_sweep(&sweep(seed), |_| {}).unwrap();
        let (csv, json) = (dir.path().join("c.csv"), dir.path().join("c.json"));
        crate::report::output::write_csv(&csv, &rows, false).unwrap();
        crate::report::output::write_json(&json, &rows, false).unwrap();
        (std::fs::read(csv).unwrap(), std::fs::read(json).unwrap())
    }

    #[test]
    fn same_seed_gives_byte_identical_files_and_other_seeds_differ() {
        let a = files(11);
        assert_eq!(a, files(11));
        let b = files(12);
        assert_ne!(a.0, b.0);
        assert_ne!(a.1, b.1);
    }

    fn delay() -> impl PropStrategy<Value = Delay> {
        prop_oneof![
            (0u64..300_000).prop_map(Delay::Fixed),
            (0u64..300_000).prop_map(Delay::Exp),
            (0u64..100_000, 0u64..100_000).prop_map(|(a, b)| Delay::Uniform(a.min(b), a.max(b))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any workload: cas, incr and lease end exactly at the expected total, naive never
        /// above it; the client's CAS counts match the store's; a rerun is identical.
        #[test]
        fn totals_are_exact_and_runs_repeat(
            strategy in prop_oneof![
                Just(CounterStrategy::Naive),
                Just(CounterStrategy::Cas),
                Just(CounterStrategy::Incr),
                Just(CounterStrategy::Lease),
            ],
            clients in 1u32..12,
            updates in 0u64..60,
            keys in 1u32..5,
            zipf in 0.0f64..2.0,
            initial in proptest::option::of(0u64..1000),
            read_ratio in 0.0f64..0.5,
            rtt in delay(),
            service in delay(),
            think in delay(),
            rtt_persistence in prop_oneof![Just(0.0), 0.0f64..0.99],
            seed in 0u64..1000,
        ) {
            let w = Workload {
                strategy,
                backoff: "exp:base=1us,max=1ms".parse().unwrap(),
                clients,
                updates_per_client: updates,
                keys,
                key_dist: KeyDist::Zipf { alpha: zipf },
                initial,
                read_ratio,
                rtt,
                service,
                think,
                rtt_persistence,
                serving_order: None,
                seed,
            };
            let row = run(Mode::Sim, &w).unwrap();
            prop_assert_eq!(row.updates, w.expected_updates());
            prop_assert_eq!(row.final_total as i64 + row.lost_updates, row.expected as i64);
            prop_assert!(row.lost_updates >= 0);
            if strategy != CounterStrategy::Naive {
                prop_assert_eq!(row.lost_updates, 0);
            }
            prop_assert_eq!(row.cas_badval, row.cas_failures);
            prop_assert_eq!(row.cas_hits + row.cas_badval + row.cas_misses, row.cas_attempts);
            prop_assert_eq!(run(Mode::Sim, &w).unwrap(), row);
        }
    }

    /// With persistence `p` a client's round trip repeats its last one with probability
    /// `p` (a fresh draw from this continuous spread repeats almost never), each client
    /// on its own; with 0 no draw repeats.
    #[test]
    fn round_trips_persist_per_client_with_the_given_probability() {
        for p in [0.0, 0.25, 0.8] {
            let w = Workload {
                rtt: "uniform:0us-1000ms".parse().unwrap(),
                rtt_persistence: p,
                ..Workload::default()
            };
            let mut sim = Sim::new(&w, 2);
            let (mut last, mut repeats) = ([0u64; 2], [0u32; 2]);
            let n = 20_000;
            for i in 0..2 * n {
                let client = (i % 2) as u32;
                let rtt = sim.round_trip(client);
                repeats[client as usize] += u32::from(i >= 2 && rtt == last[client as usize]);
                last[client as usize] = rtt;
            }
            for r in repeats {
                let share = f64::from(r) / f64::from(n - 1);
                assert!((share - p).abs() < 0.015, "p = {p}: {share}");
            }
        }
        let bad = Workload {
            rtt_persistence: 1.0,
            ..Workload::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("persistence")
        );
    }

    #[test]
    fn update_streaks_by_hand() {
        let w = |strategy, clients| Workload {
            strategy,
            clients,
            updates_per_client: 50,
            initial: Some(0),
            rtt: Delay::Fixed(100_000),
            service: Delay::Fixed(0),
            ..Workload::default()
        };
        // One client makes every update in one streak.
        let alone = run(Mode::Sim, &w(Strategy::Incr, 1)).unwrap();
        assert_eq!(alone.update_streak_mean, Some(50.0));
        // Two incr clients with equal fixed delays take strict turns: 0 1 0 1 …
        let turns = run(Mode::Sim, &w(Strategy::Incr, 2)).unwrap();
        assert_eq!(turns.update_streak_mean, Some(1.0));
    }

    #[test]
    fn a_row_without_update_streaks_still_reads() {
        // Result files written before the field existed have no `update_streak_mean`.
        let row = run(Mode::Sim, &Workload::default()).unwrap();
        let mut json = serde_json::to_value(&row).unwrap();
        json.as_object_mut().unwrap().remove("update_streak_mean");
        let back: crate::contention::ContentionRow = serde_json::from_value(json).unwrap();
        assert_eq!(back.update_streak_mean, None);
        assert_eq!(back.cas_failures, row.cas_failures);
    }

    fn run_outcome(w: &Workload) -> RunOutcome {
        super::run(w).unwrap()
    }
}
