//! Servers the integration tests talk to: `cachelab serve` and a real memcached, each on a
//! free loopback port, stopped when dropped; and ([`python`]) the Python references the
//! comparison tests run.

#![allow(dead_code)]

pub mod capture;
pub mod fixed_hash;
pub mod python;
pub mod streams;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A child server process, killed on drop (however the test ends).
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cachelab serve -p 0` and returns it with the address it printed.
pub fn cachelab_serve() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve", "-p", "0", "-m", "16"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start cachelab serve");
    let addr = listening_address(&mut child);
    (Server(child), addr)
}

/// Reads the `listening on HOST:PORT` line a starting `cachelab serve` prints first on its
/// (piped) stdout, and returns the address.
pub fn listening_address(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the address");
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string()
}

/// Starts a real memcached on a free loopback port (as root: `-u root`; no UDP; `args`
/// after the defaults) and waits until it accepts connections; panics if it never does.
pub fn start_memcached(args: &[&str]) -> (Server, SocketAddr) {
    // The port is free when chosen but not reserved: a test running beside this one may
    // take it first, and then this memcached cannot bind (and exits) while a connect
    // reaches the other server. So this child must still be running once a connect
    // succeeds; otherwise try another port.
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new("memcached")
            .args([
                "-u",
                "root",
                "-U",
                "0",
                "-l",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("memcached starts");
        let mut server = Server(child);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if server.0.try_wait().ok().flatten().is_some() {
                break; // it exited: the port was taken
            }
            if TcpStream::connect(addr).is_ok() {
                // A memcached that could not bind exits at once; one still running after
                // this is the one that answered. (Asking its `stats` for the pid would
                // show in the counters the tests compare.)
                std::thread::sleep(Duration::from_millis(200));
                if server.0.try_wait().ok().flatten().is_none() {
                    return (server, addr);
                }
                break;
            }
            assert!(
                Instant::now() < deadline,
                "memcached on {addr} never accepted"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("memcached could not get a free loopback port in 5 tries");
}

/// A real memcached (`-m 16`), or `None` when it is not installed (see
/// [`memcached_missing`]); an installed memcached that does not start is a failure.
pub fn real_memcached_or_ci_failure() -> Option<(Server, String)> {
    if memcached_missing("the real-server half") {
        return None;
    }
    let (server, addr) = start_memcached(&["-m", "16"]);
    Some((server, addr.to_string()))
}

/// True when the `memcached` binary is missing and the test should return early: it says
/// so loudly (naming `check`, what did not run) on the real stderr, which libtest does not
/// capture. Under `CI=true` a missing memcached panics instead, because `.ci/run` installs
/// it and a skipped comparison is no pass.
pub fn memcached_missing(check: &str) -> bool {
    let found = Command::new("memcached")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if found {
        return false;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("memcached is not installed, and CI=true requires this test to run");
    }
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("\n!!!!! SKIPPED: memcached is not installed; {check} NOT run !!!!!\n\n")
            .as_bytes(),
    );
    true
}

/// Runs the `cachelab` binary from the crate root.
pub fn cachelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cachelab")
}

/// Runs `cachelab` and returns its stdout; fails the test if it failed.
pub fn ok(args: &[&str]) -> String {
    let out = cachelab(args);
    assert!(
        out.status.success(),
        "cachelab {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs `cachelab`, expecting failure, and returns its stderr.
pub fn fails(args: &[&str]) -> String {
    let out = cachelab(args);
    assert!(!out.status.success(), "cachelab {args:?} should fail");
    String::from_utf8(out.stderr).expect("utf-8 errors")
}

/// Reads from `s` until what was read ends with `end` (or the peer closes); the text read.
/// A read error (a timeout set on the socket) fails the test, showing what came so far.
pub fn read_until(s: &mut impl std::io::Read, end: &str) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while !out.ends_with(end.as_bytes()) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "reading the reply: {e} (so far {:?})",
                String::from_utf8_lossy(&out)
            ),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs `f` on `threads` threads released together by a barrier (so they race), and
/// returns their results in thread order: for single-flight tests, where every thread
/// must miss the same key at once.
pub fn all_at_once<T: Send>(threads: usize, f: impl Fn() -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    f()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
