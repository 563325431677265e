//! What a cache's workload capture should hold, built from its in-memory capture: the
//! reference the capture tests compare files with.

use cachelab::request::{Op, Request};
use cachelab::trace::{ReadOptions, next_access, open, read_all};

/// The in-memory capture as an oracleGeneral file holds it: no removals, every record a
/// read without TTL, only the keys `keep` keeps (a sample), next accesses computed over the
/// whole.
pub fn as_oracle(captured: &[Request], keep: impl Fn(u64) -> bool) -> Vec<Request> {
    let mut expected: Vec<Request> = captured
        .iter()
        .filter(|r| r.op != Op::Delete && keep(r.key))
        .map(|r| Request {
            op: Op::Get,
            ttl: 0,
            ..*r
        })
        .collect();
    let next = next_access::indices(&expected);
    for (r, n) in expected.iter_mut().zip(next) {
        r.next_access = n;
    }
    expected
}

/// An error with its causes, as the command line prints it.
pub fn full(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// Every request of the trace file at `path`, read by cachelab's own reader.
pub fn read_back(path: &str) -> Vec<Request> {
    let mut reader = open(path, &ReadOptions::default()).expect("opens");
    read_all(&mut reader).expect("reads")
}
