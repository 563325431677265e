//! Regressions in the memcached area (see `tests/regressions.rs`): `cachelab serve` under
//! hostile-but-fair clients, and the network clients (`replay`, `bench-server`, contention's
//! net mode and calibration) under servers that stall or lie. Loopback only; every loop is
//! bounded and every socket has a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::common::{Server, fails};

/// Starts `cachelab serve -p 0` with `args` (through `sh -c` with `prefix` before it, for
/// `ulimit`), stderr piped; returns the server, its address and its stderr.
fn serve(prefix: &str, args: &str) -> (Server, String, std::process::ChildStderr) {
    let command = format!(
        "{prefix} exec '{}' serve -p 0 {args}",
        env!("CARGO_BIN_EXE_cachelab")
    );
    let mut child = Command::new("sh")
        .args(["-c", &command])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cachelab serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let addr = super::common::listening_address(&mut child);
    (Server(child), addr, stderr)
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Sends `stats` and returns the value of the field `name`.
fn stat(addr: &str, name: &str) -> u64 {
    let mut s = connect(addr);
    s.write_all(b"stats\r\n").unwrap();
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    for _ in 0..200 {
        line.clear();
        reader.read_line(&mut line).expect("a stats line");
        if line.starts_with("END") {
            break;
        }
        if let Some(value) = line.trim_end().strip_prefix(&format!("STAT {name} ")) {
            return value.parse().expect("a number");
        }
    }
    panic!("no {name} in stats");
}

/// The resident set of a process, in bytes (Linux), or `None` elsewhere.
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|kb| kb * 1024)
}

/// Reads whatever is there within `wait` (a reply line, or nothing).
fn poll_reply(s: &mut TcpStream, wait: Duration) -> String {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap_or(0);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn unfinished_values_are_bounded_by_the_memory_limit() {
    // See: issue 12 — 300 connections each sending 999,990 bytes of a declared 1 MB value
    // against `cachelab serve -m 64` held 371 MB (memcached 77 MB); the ceiling was -c × -I.
    // Here 50 connections each send 900 KB of a declared 1 MB value to `-m 16 -c 64`: the
    // read budget is -m (16 MiB), so at most 16 MiB of the 45 MB sent may be held; the
    // rest are refused as memcached refuses an item it cannot allocate.
    let (server, addr, _stderr) = serve("", "-m 16 -c 64");
    let pid = server.0.id();
    let before = rss(pid);
    let declared = 1_000_000;
    let sent = 900_000;
    let body = vec![b'x'; sent];
    let mut conns = Vec::new();
    for i in 0..50 {
        let mut s = connect(&addr);
        s.write_all(format!("set k{i} 0 0 {declared}\r\n").as_bytes())
            .unwrap();
        // A refused connection's data is swallowed, so the whole body always goes.
        s.write_all(&body).unwrap();
        conns.push(s);
    }
    let held = stat(&addr, "read_buf_bytes");
    let budget = 16 << 20;
    let bases = 51 * 16 * 1024;
    assert!(
        held <= budget + bases,
        "read buffers hold {held} bytes, more than -m ({budget}) and the base buffers"
    );
    assert!(held >= 10 << 20, "the budget should be in use: {held}");
    if let (Some(before), Some(during)) = (before, rss(pid)) {
        // 16 MiB of budget, 1 MiB of base buffers and allocator slack; before the fix the
        // 50 unfinished values took at least 45 MB.
        let growth = during.saturating_sub(before);
        assert!(growth < 36 << 20, "RSS grew by {growth} bytes");
    }
    let mut refused = Vec::new();
    for (i, s) in conns.iter_mut().enumerate() {
        if poll_reply(s, Duration::from_millis(20))
            == "SERVER_ERROR out of memory storing object\r\n"
        {
            refused.push(i);
        }
    }
    assert!(
        refused.len() >= 30,
        "at least 34 of 50 MB-values cannot fit 16 MiB: {} refused",
        refused.len()
    );
    assert_eq!(stat(&addr, "store_no_memory"), refused.len() as u64);
    // A refused connection swallows the rest of its value and keeps serving.
    let s = &mut conns[refused[0]];
    s.write_all(&vec![b'x'; declared - sent]).unwrap();
    s.write_all(b"\r\nget k0\r\nset small 0 0 1\r\ny\r\n")
        .unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut lines = Vec::new();
    for _ in 0..2 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        lines.push(line);
    }
    assert!(lines[1] == "STORED\r\n", "{lines:?}");
    drop(reader);
    drop(conns);
    // Closed connections give their bytes back.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let held = stat(&addr, "read_buf_bytes");
        if held == 16 * 1024 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{held} bytes still held after close"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_refuses_zero_threads_zero_connections_and_unrepresentable_memory() {
    // See: issue 12 — `cachelab serve -t 0`, `-c 0` and `-m 18446744073709551615` started.
    let err = fails(&["serve", "-p", "0", "-t", "0"]);
    assert!(
        err.contains("Number of threads must be greater than 0"),
        "{err}"
    );
    let err = fails(&["serve", "-p", "0", "-c", "0"]);
    assert!(
        err.contains("Maximum connections must be greater than 0"),
        "{err}"
    );
    let err = fails(&["serve", "-p", "0", "-m", "18446744073709551615"]);
    assert!(err.contains("do not fit in 64 bits"), "{err}");
    let err = fails(&["serve", "-p", "0", "-t", "100000"]);
    assert!(err.contains("at most 256"), "{err}");
}

#[test]
fn stats_report_the_worker_threads() {
    // See: issue 12 — `cachelab serve -t 4` answered `stats` with `threads 1`.
    let (_server, addr, _stderr) = serve("", "-m 16 -t 3 -c 77");
    assert_eq!(stat(&addr, "threads"), 3);
    assert_eq!(stat(&addr, "max_connections"), 77);
}

#[test]
fn the_listen_backlog_is_memcacheds_1024() {
    // See: issue 12 — `cachelab serve` listened with a backlog of 128 (memcached 1,024):
    // 1,000 rapid connects took 3 s against 0.03 s. `ss` shows a listener's backlog as
    // its Send-Q.
    let (_server, addr, _stderr) = serve("", "-m 16");
    let port = addr.rsplit(':').next().unwrap();
    let Ok(out) = Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
    else {
        // .ci/run installs iproute2; elsewhere say loudly that this check did not run.
        assert!(
            std::env::var("CI").is_err(),
            "ss (iproute2) is missing and CI=true: the backlog check must run"
        );
        eprintln!(
            "!!!!! SKIPPED: ss (iproute2) is not installed: listen backlog NOT checked !!!!!"
        );
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let send_q: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(send_q, ["1024"], "{text}");
}

#[test]
fn past_the_descriptor_limit_the_server_warns_waits_and_keeps_serving() {
    // See: issue 12 — past the fd limit `cachelab serve` hung silently (accept failed
    // with EMFILE). Here the limit is 64 descriptors with -c 1000.
    let (server, addr, stderr) = serve("ulimit -n 64 &&", "-m 16 -c 1000 -t 1");
    let mut conns: Vec<TcpStream> = (0..80).map(|_| connect(&addr)).collect();
    // The first ones are served.
    conns[0].write_all(b"version\r\n").unwrap();
    assert!(poll_reply(&mut conns[0], Duration::from_secs(2)).starts_with("VERSION"));
    // Free descriptors: a new connection is served again after the back-off.
    conns.truncate(5);
    let mut late = connect(&addr);
    late.write_all(b"version\r\n").unwrap();
    assert!(poll_reply(&mut late, Duration::from_secs(4)).starts_with("VERSION"));
    drop(conns);
    drop(late);
    drop(server);
    let mut log = String::new();
    BufReader::new(stderr).read_to_string(&mut log).unwrap();
    assert!(log.contains("warning: -c 1000 needs about"), "{log}");
    // Once per episode, not once per failed accept: an episode ends with "accepting
    // connections again". Connections the client already closed can still wait in the
    // backlog and fill the table a second time, so there may be more than one episode.
    let said = log.matches("cannot accept a connection").count();
    let ended = log.matches("accepting connections again").count();
    assert!(said >= 1, "{log}");
    assert!(said == ended || said == ended + 1, "said once per episode: {log}");
    assert!(said <= 4, "said once per episode, not per retry: {log}");
}

/// A fake server on a free loopback port: each connection is answered by `reply`, given
/// the request line (`None` ends the connection's loop); `stall` servers never reply.
fn fake_server(reply: fn(&str) -> Option<Vec<u8>>) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut served = Vec::new();
        while Instant::now() < deadline && served.len() < 8 {
            match listener.accept() {
                Ok((socket, _)) => served.push(std::thread::spawn(move || {
                    socket.set_nonblocking(false).unwrap();
                    socket
                        .set_read_timeout(Some(Duration::from_secs(20)))
                        .unwrap();
                    let mut writer = socket.try_clone().unwrap();
                    let mut reader = BufReader::new(socket);
                    let mut line = String::new();
                    for _ in 0..10_000 {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        match reply(&line) {
                            Some(bytes) => {
                                if writer.write_all(&bytes).is_err() {
                                    return;
                                }
                            }
                            None => continue,
                        }
                    }
                })),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (addr, handle)
}

fn silent(_line: &str) -> Option<Vec<u8>> {
    None
}

fn lying(line: &str) -> Option<Vec<u8>> {
    if line.starts_with("get") {
        Some(b"VALUE k 0 2000000000\r\n".to_vec())
    } else if line.starts_with("set") {
        Some(b"STORED\r\n".to_vec())
    } else {
        None
    }
}

#[test]
fn replay_gives_up_on_a_server_that_never_answers() {
    // See: issue 12 — `cachelab replay --server <a listener that never replies>` hung for
    // good.
    let (addr, _fake) = fake_server(silent);
    let start = Instant::now();
    let err = fails(&[
        "replay",
        "--server",
        &addr,
        "--timeout",
        "300ms",
        "tests/data/tiny.txt",
    ]);
    assert!(err.contains("did not answer within"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn bench_server_gives_up_on_a_server_that_never_answers() {
    // See: issue 12 — `cachelab bench-server --server <a silent listener>` hung for good.
    let (addr, _fake) = fake_server(silent);
    let start = Instant::now();
    let err = fails(&[
        "bench-server",
        "--server",
        &addr,
        "--timeout",
        "300ms",
        "--connections",
        "2",
        "--keys",
        "10",
        "--seconds",
        "1",
    ]);
    assert!(err.contains("no answer within 300ms"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn contention_net_and_calibration_give_up_on_a_silent_server() {
    // See: issue 12 — `cachelab contention --mode net` and `--calibrate` against a
    // listener that never replies hung for good. Their timeout is the client's 10 s
    // default; the library takes a shorter one so the test stays fast.
    use cachelab::contention::calibrate::calibrate_with;
    use cachelab::contention::net::NetBackend;
    use cachelab::memcached::client::ClientOptions;
    let (addr, _fake) = fake_server(silent);
    let options = ClientOptions {
        timeout: Some(Duration::from_millis(300)),
        ..ClientOptions::default()
    };
    let start = Instant::now();
    let err = calibrate_with(&addr, &options).unwrap_err().to_string();
    assert!(err.contains("did not answer within"), "{err}");
    let mut backend = NetBackend::connect_with(&addr, &options).unwrap();
    let err = cachelab::contention::backend::CounterBackend::get(&mut backend, b"k")
        .unwrap_err()
        .to_string();
    assert!(err.contains("did not answer within"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn network_clients_refuse_a_declared_length_they_never_asked_for() {
    // See: issue 12 — a server answering `VALUE k 0 2000000000` drove replay,
    // bench-server and contention to 1.9–3 GB.
    let (addr, _fake) = fake_server(lying);
    let err = fails(&["replay", "--server", &addr, "tests/data/tiny.txt"]);
    assert!(
        err.contains("declared a 2000000000-byte value; at most"),
        "{err}"
    );
    let err = fails(&[
        "bench-server",
        "--server",
        &addr,
        "--connections",
        "1",
        "--keys",
        "4",
        "--seconds",
        "1",
    ]);
    assert!(
        err.contains("declared a 2000000000-byte value; at most 1048576 expected"),
        "{err}"
    );
    let err = cachelab::contention::calibrate::calibrate(&addr)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("declared a 2000000000-byte value; at most 1048576 expected"),
        "{err}"
    );
}
