//! `cachelab serve` with memcached 1.6.18's command-line options: each option is started,
//! and memcached's exact replies, `stats` rows and exit codes are asserted. Where it is
//! cheap the same exchange runs against the real memcached (`/usr/bin/memcached`), and the
//! two must agree byte for byte; without memcached the comparison is skipped loudly (and
//! fails under `CI=true`, see `common::memcached_missing`).
//!
//! See: issue 16 (memcached's own test files 00-startup.t, flush-all.t, dash-M.t,
//! shutdown.t, idle-timeout.t, issue_61.t, maxconns.t, daemonize.t use these options).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, listening_address, memcached_missing, read_until, start_memcached};

/// Starts `cachelab serve -p 0 ARGS` and returns it with its address.
fn serve(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve", "-p", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cachelab serve");
    let addr = listening_address(&mut child);
    (Server(child), addr)
}

/// A real memcached with `args`, or `None` (said loudly) when it is not installed.
fn memcached(args: &[&str], check: &str) -> Option<(Server, String)> {
    if memcached_missing(check) {
        return None;
    }
    let (server, addr) = start_memcached(args);
    Some((server, addr.to_string()))
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Sends `script` and reads until the reply ends with `end` (or the server closes).
fn exchange(addr: &str, script: &str, end: &str) -> String {
    let mut s = connect(addr);
    s.write_all(script.as_bytes()).unwrap();
    read_until(&mut s, end)
}

/// `stats [kind]` as name → value pairs.
fn stats(addr: &str, kind: &str) -> Vec<(String, String)> {
    let command = if kind.is_empty() {
        "stats\r\n".to_string()
    } else {
        format!("stats {kind}\r\n")
    };
    exchange(addr, &command, "END\r\n")
        .lines()
        .filter_map(|line| {
            let mut parts = line.strip_prefix("STAT ")?.splitn(2, ' ');
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect()
}

fn stat(addr: &str, kind: &str, name: &str) -> Option<String> {
    stats(addr, kind)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Runs `cachelab serve ARGS` expecting it to refuse: returns its exit code and stderr.
fn refused(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run cachelab serve");
    let code = out.status.code().expect("exited, not killed");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs memcached with `args` (after `-u root -U 0`), expecting it to exit at once:
/// returns its exit code.
fn memcached_refuses(args: &[&str]) -> i32 {
    let mut child = Command::new("memcached")
        .args(["-u", "root", "-U", "0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("memcached runs");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().expect("exited, not killed");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("memcached {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_options_are_refused_with_memcacheds_words_and_exit_codes() {
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["-c", "0"],
            1,
            "Maximum connections must be greater than 0",
        ),
        (
            &["-c", "-1"],
            1,
            "Maximum connections must be greater than 0",
        ),
        (&["-t", "0"], 1, "Number of threads must be greater than 0"),
        (
            &["-R", "0"],
            1,
            "Number of requests per event must be greater than 0",
        ),
        (
            &["-B", "http"],
            64,
            "Invalid value for binding protocol: http\n -- should be one of auto, binary, or ascii",
        ),
        (
            &["-o", "idle_timeout"],
            1,
            "Missing numeric argument for idle_timeout",
        ),
        (
            &["-o", "read_buf_mem_limit"],
            1,
            "Missing read_buf_mem_limit argument",
        ),
        (
            &["-o", "read_buf_mem_limit=x"],
            1,
            "could not parse argument to read_buf_mem_limit",
        ),
        (
            &["-p", "11299", "-l", "fooble"],
            71,
            "failed to listen on one of interface(s) fooble",
        ),
    ];
    for (args, code, message) in cases {
        let (got, stderr) = refused(args);
        assert_eq!(got, *code, "cachelab serve {args:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "cachelab serve {args:?}: {stderr}"
        );
    }
    if memcached_missing("memcached's exit codes for bad options") {
        return;
    }
    for (args, code, _) in cases {
        assert_eq!(memcached_refuses(args), *code, "memcached {args:?}");
    }
}

#[test]
fn out_of_scope_options_are_refused_saying_so() {
    for (args, code, message) in [
        (&["-B", "binary"][..], 64, "binary protocol is out of scope"),
        (
            &["-S"][..],
            64,
            "This server is not built with SASL support",
        ),
        (
            &["-Y", "/tmp/auth"][..],
            64,
            "authentication is out of scope",
        ),
        (&["-o", "drop_privileges"][..], 1, "sandbox is out of scope"),
    ] {
        let (got, stderr) = refused(args);
        assert_eq!(got, code, "cachelab serve {args:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "cachelab serve {args:?}: {stderr}"
        );
    }
}

/// The `stats settings` rows the options set, checked against the values given and, where
/// memcached prints the same row, against memcached started with the same options.
#[test]
fn stats_settings_show_the_options_under_memcacheds_names() {
    let args = [
        "-C",
        "-b",
        "8675",
        "-B",
        "ascii",
        "-R",
        "7",
        "-A",
        "-F",
        "-M",
        "-c",
        "77",
        "-t",
        "3",
        "-vv",
        "-o",
        "idle_timeout=9,read_buf_mem_limit=2",
    ];
    let (_server, addr) = serve(&args);
    let ours = stats(&addr, "settings");
    let want = [
        ("maxconns", "77"),
        ("verbosity", "2"),
        ("evictions", "off"),
        ("shutdown_command", "yes"),
        ("num_threads", "3"),
        ("reqs_per_event", "7"),
        ("cas_enabled", "no"),
        ("tcp_backlog", "8675"),
        ("binding_protocol", "ascii"),
        ("maxconns_fast", "yes"),
        ("flush_enabled", "no"),
        ("idle_timeout", "9"),
        ("read_buf_mem_limit", "2097152"),
        ("inter", "127.0.0.1"),
    ];
    let get = |rows: &[(String, String)], name: &str| {
        rows.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in {rows:?}"))
    };
    for (name, value) in want {
        assert_eq!(get(&ours, name), value, "{name}");
    }
    // memcached's order: each row after the one memcached prints before it.
    let pos = |name: &str| ours.iter().position(|(n, _)| n == name).unwrap();
    assert!(pos("maxbytes") < pos("maxconns") && pos("maxconns") < pos("tcpport"));
    assert!(pos("cas_enabled") < pos("tcp_backlog") && pos("tcp_backlog") < pos("item_size_max"));
    let Some((_mc, mc_addr)) = memcached(&args, "the stats settings comparison") else {
        return;
    };
    let theirs = stats(&mc_addr, "settings");
    for (name, _) in want {
        assert_eq!(
            get(&ours, name),
            get(&theirs, name),
            "{name} differs from memcached"
        );
    }
    // The defaults, too.
    let (_server, addr) = serve(&[]);
    let (_mc, mc_addr) = memcached(&[], "the default settings comparison").unwrap();
    let (ours, theirs) = (stats(&addr, "settings"), stats(&mc_addr, "settings"));
    for name in [
        "maxconns",
        "verbosity",
        "evictions",
        "shutdown_command",
        "reqs_per_event",
        "cas_enabled",
        "tcp_backlog",
        "binding_protocol",
        "maxconns_fast",
        "flush_enabled",
        "idle_timeout",
        "read_buf_mem_limit",
        "auth_enabled_sasl",
        "udpport",
    ] {
        assert_eq!(get(&ours, name), get(&theirs, name), "default {name}");
    }
}

/// The same script against cachelab and memcached started with the same options.
fn same_as_memcached(args: &[&str], script: &str, end: &str, want: &str) {
    let (_server, addr) = serve(args);
    assert_eq!(
        exchange(&addr, script, end),
        want,
        "cachelab serve {args:?}"
    );
    if let Some((_mc, mc_addr)) = memcached(args, "the byte-for-byte comparison") {
        assert_eq!(exchange(&mc_addr, script, end), want, "memcached {args:?}");
    }
}

#[test]
fn dash_f_refuses_flush_all_and_keeps_the_items() {
    same_as_memcached(
        &["-F"],
        "set a 0 0 1\r\nx\r\nflush_all\r\nflush_all 0 noreply\r\nflush_all 10\r\nget a\r\n",
        "END\r\n",
        "STORED\r\nCLIENT_ERROR flush_all not allowed\r\n\
         CLIENT_ERROR flush_all not allowed\r\nVALUE a 0 1\r\nx\r\nEND\r\n",
    );
}

#[test]
fn dash_c_turns_cas_ids_off() {
    same_as_memcached(
        &["-C"],
        "set a 0 0 1\r\nx\r\ngets a\r\ncas a 0 0 1 0\r\ny\r\ncas b 0 0 1 0\r\nz\r\n",
        "NOT_FOUND\r\n",
        "STORED\r\nVALUE a 0 1 0\r\nx\r\nEND\r\nEXISTS\r\nNOT_FOUND\r\n",
    );
}

#[test]
fn without_cas_flush_all_drops_what_is_stored_in_its_second() {
    // flush-all.t: without CAS ids memcached cannot tell items stored after a `flush_all`
    // in the same second from those before it, so they go too. Each try stays in one
    // second unless the clock ticks between the flush and the get, so one try of a few
    // must lose its item.
    let (_server, addr) = serve(&["-C"]);
    let mut s = connect(&addr);
    let lost = (0..20).any(|_| {
        s.write_all(b"flush_all 0\r\nset foo 0 0 3\r\nnew\r\nget foo\r\n")
            .unwrap();
        let reply = read_until(&mut s, "END\r\n");
        reply == "OK\r\nSTORED\r\nEND\r\n"
    });
    assert!(
        lost,
        "an item set in the flush's second survived every time"
    );
    // With CAS ids the cut is exact: the item stored after the flush stays.
    let (_server, addr) = serve(&[]);
    let reply = exchange(
        &addr,
        "flush_all 0\r\nset foo 0 0 3\r\nnew\r\nget foo\r\n",
        "END\r\n",
    );
    assert_eq!(reply, "OK\r\nSTORED\r\nVALUE foo 0 3\r\nnew\r\nEND\r\n");
}

#[test]
fn shutdown_needs_dash_a() {
    same_as_memcached(
        &[],
        "shutdown\r\nshutdown graceful\r\nget nothing\r\n",
        "END\r\n",
        "ERROR: shutdown not enabled\r\nERROR: shutdown not enabled\r\nEND\r\n",
    );
    same_as_memcached(
        &["-A"],
        "shutdown foo\r\nshutdown graceful now\r\n",
        "mode\r\nCLIENT_ERROR invalid shutdown mode\r\n",
        "CLIENT_ERROR invalid shutdown mode\r\nCLIENT_ERROR invalid shutdown mode\r\n",
    );
}

/// `shutdown` (or `shutdown graceful`) under `-A` closes the connection without a reply and
/// the process exits 0.
#[test]
fn shutdown_with_dash_a_stops_the_server() {
    for command in ["shutdown\r\n", "shutdown graceful\r\n"] {
        let (mut server, addr) = serve(&["-A"]);
        let idle = connect(&addr);
        let reply = exchange(&addr, command, "never");
        assert_eq!(reply, "", "{command:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = server.0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "{command:?}: still running");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{command:?}: {status:?}");
        drop(idle);
    }
}

#[test]
fn dash_m_refuses_stores_instead_of_evicting() {
    // dash-M.t: -M -m 2, 8 KiB values until the memory is gone.
    let value = "B".repeat(8192);
    let fill = |addr: &str| -> (usize, String) {
        let mut s = connect(addr);
        for n in 0..10_000 {
            s.write_all(format!("set dash{n} 0 0 8192\r\n{value}\r\n").as_bytes())
                .unwrap();
            let reply = read_until(&mut s, "\r\n");
            if reply != "STORED\r\n" {
                return (n, reply);
            }
        }
        panic!("never ran out of memory");
    };
    let (_server, addr) = serve(&["-M", "-m", "2"]);
    let (stored, reply) = fill(&addr);
    assert_eq!(reply, "SERVER_ERROR out of memory storing object\r\n");
    assert_eq!(stat(&addr, "", "store_no_memory").as_deref(), Some("1"));
    assert_eq!(stat(&addr, "", "evictions").as_deref(), Some("0"));
    let first = exchange(&addr, "get dash0\r\n", "END\r\n");
    assert_eq!(first, format!("VALUE dash0 0 8192\r\n{value}\r\nEND\r\n"));
    if let Some((_mc, mc_addr)) = memcached(&["-M", "-m", "2"], "the -M comparison") {
        let (theirs, reply) = fill(&mc_addr);
        assert_eq!(reply, "SERVER_ERROR out of memory storing object\r\n");
        assert_eq!(stored, theirs, "items stored before memory ran out");
    }
}

#[test]
fn dash_r_makes_a_connection_yield_after_n_requests() {
    // issue_61.t: six pipelined sets under -R 1 are all stored, in five yields.
    let (_server, addr) = serve(&["-R", "1"]);
    let script = "set foobar 0 0 5\r\nBubba\r\n".repeat(6);
    assert_eq!(
        exchange(&addr, &script, &"STORED\r\n".repeat(6)),
        "STORED\r\n".repeat(6)
    );
    assert_eq!(stat(&addr, "", "conn_yields").as_deref(), Some("5"));
    if let Some((_mc, mc_addr)) = memcached(&["-R", "1"], "the -R comparison") {
        exchange(&mc_addr, &script, &"STORED\r\n".repeat(6));
        // memcached counts its last yield after sending the replies: give it a moment.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut theirs: u64 = 0;
        while theirs < 5 && Instant::now() < deadline {
            theirs = stat(&mc_addr, "", "conn_yields").unwrap().parse().unwrap();
        }
        assert!(theirs >= 5, "memcached yielded {theirs} times");
    }
    // The default (20) lets 21 `get`s through after a read: the 21st fills the window and
    // the connection yields once; 20 never yield. memcached counts the same.
    let yields_after = |addr: &str, gets: usize| -> String {
        let count = || -> u64 { stat(addr, "", "conn_yields").unwrap().parse().unwrap() };
        let before = count();
        exchange(addr, &"get nope\r\n".repeat(gets), &"END\r\n".repeat(gets));
        // memcached counts a yield after sending the replies: a moment for it to land.
        std::thread::sleep(Duration::from_millis(100));
        (count() - before).to_string()
    };
    let (_server, addr) = serve(&[]);
    assert_eq!(yields_after(&addr, 20), "0");
    assert_eq!(yields_after(&addr, 21), "1");
    if let Some((_mc, mc_addr)) = memcached(&[], "the default -R comparison") {
        assert_eq!(yields_after(&mc_addr, 20), "0");
        assert_eq!(yields_after(&mc_addr, 21), "1");
    }
}

#[test]
fn idle_timeout_closes_idle_connections_only() {
    let (_server, addr) = serve(&["-o", "idle_timeout=1"]);
    assert_eq!(stat(&addr, "", "idle_kicks").as_deref(), Some("0"));
    let mut idle = connect(&addr);
    let mut busy = connect(&addr);
    let start = Instant::now();
    // `busy` sends a command every 300 ms for 3 s; `idle` sends nothing.
    while start.elapsed() < Duration::from_secs(3) {
        busy.write_all(b"version\r\n").unwrap();
        assert!(read_until(&mut busy, "\r\n").starts_with("VERSION "));
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut buf = [0u8; 16];
    assert_eq!(
        idle.read(&mut buf).unwrap(),
        0,
        "the idle connection was closed"
    );
    assert_eq!(stat(&addr, "", "idle_kicks").as_deref(), Some("1"));
    // Without the option the row is absent, as in memcached.
    let (_server, addr) = serve(&[]);
    assert_eq!(stat(&addr, "", "idle_kicks"), None);
}

#[test]
fn past_dash_c_new_connections_are_rejected_and_counted() {
    let (_server, addr) = serve(&["-c", "2"]);
    let mut first = connect(&addr);
    first.write_all(b"version\r\n").unwrap();
    read_until(&mut first, "\r\n");
    let _second = connect(&addr);
    std::thread::sleep(Duration::from_millis(100));
    let reply = exchange(&addr, "", "\r\n");
    assert_eq!(reply, "ERROR Too many open connections\r\n");
    first
        .write_all(b"stats\r\n")
        .expect("the first connection still works");
    let rows = read_until(&mut first, "END\r\n");
    assert!(rows.contains("STAT rejected_connections 1\r\n"), "{rows}");
}

#[test]
fn no_modern_waits_instead_of_rejecting_and_uses_the_old_defaults() {
    let (_server, addr) = serve(&["-c", "1", "-o", "no_modern"]);
    let mut first = connect(&addr);
    first.write_all(b"stats settings\r\n").unwrap();
    let rows = read_until(&mut first, "END\r\n");
    for row in [
        "STAT maxconns_fast no\r\n",
        "STAT lru_segmented no\r\n",
        "STAT slab_chunk_max 1048576\r\n",
    ] {
        assert!(rows.contains(row), "{row:?} in {rows}");
    }
    // A second connection is not refused: it is served once the first one closes.
    let mut second = connect(&addr);
    second.write_all(b"version\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(first);
    assert!(read_until(&mut second, "\r\n").starts_with("VERSION "));
    second.write_all(b"stats\r\n").unwrap();
    let rows = read_until(&mut second, "END\r\n");
    assert!(!rows.contains("rejected_connections"), "{rows}");
}

#[test]
fn b_ascii_and_auto_serve_the_text_protocol() {
    for protocol in ["ascii", "auto"] {
        let (_server, addr) = serve(&["-B", protocol, "-vv"]);
        assert_eq!(
            exchange(&addr, "set a 0 0 1\r\nx\r\nget a\r\n", "END\r\n"),
            "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n"
        );
    }
}

/// `-d -P FILE`: the starting process exits 0 at once, the daemon writes its pid, answers
/// `stats` with it, and removes the file when stopped by SIGTERM. The port comes from
/// memcached's `MEMCACHED_PORT_FILENAME` file, since a daemon's stdout is `/dev/null`.
#[cfg(unix)]
#[test]
fn dash_d_daemonizes_and_writes_the_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("serve.pid");
    let portfile = dir.path().join("ports");
    let status = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve", "-p", "-1", "-d", "-P"])
        .arg(&pidfile)
        .env("MEMCACHED_PORT_FILENAME", &portfile)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run cachelab serve -d");
    assert!(status.success(), "{status:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(pidfile.exists() && portfile.exists()) {
        assert!(Instant::now() < deadline, "no pid or port file");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let ports = std::fs::read_to_string(&portfile).unwrap();
    let port: u16 = ports
        .trim()
        .strip_prefix("TCP INET: ")
        .unwrap_or_else(|| panic!("port file {ports:?}"))
        .parse()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let reported = stat(&addr, "", "pid");
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(reported, Some(pid.to_string()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while pidfile.exists() || TcpStream::connect(&addr).is_ok() {
        assert!(Instant::now() < deadline, "the daemon did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_port_file_names_the_bound_port() {
    let dir = tempfile::tempdir().unwrap();
    let portfile = dir.path().join("ports");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve", "-p", "-1"])
        .env("MEMCACHED_PORT_FILENAME", &portfile)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Server(child);
    let port = line.trim().rsplit(':').next().unwrap().to_string();
    assert_eq!(
        std::fs::read_to_string(&portfile).unwrap(),
        format!("TCP INET: {port}\n")
    );
}

/// Sends `script` and returns everything the server sends back, with `<closed>` when it
/// closed the connection and `<open>` when it went quiet for half a second.
fn reply_and_state(addr: &str, script: &str) -> String {
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.write_all(script.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => {
                out.extend_from_slice(b"<closed>");
                break;
            }
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => {
                out.extend_from_slice(b"<open>");
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn read_buf_mem_limit_bounds_the_stacked_replies() {
    // conn-limits.t: -o read_buf_mem_limit=1 -t 32 leaves each thread two 16 KiB buffers,
    // one for reading and one bundle of 13 response objects.
    let args = ["-o", "read_buf_mem_limit=1", "-t", "32", "-R", "500"];
    let get = |keys: usize| format!("get {}\r\n", vec!["foo"; keys].join(" "));
    let cases = [
        (get(13), "END\r\n<open>".to_string()),
        (
            get(14),
            "SERVER_ERROR out of memory writing get response\r\n<open>".to_string(),
        ),
        (
            get(500),
            "SERVER_ERROR out of memory writing get response\r\n<open>".to_string(),
        ),
        // Stacked replies: 13 fit, the 14th closes the connection with nothing sent.
        (
            "mg foo v\r\n".repeat(13),
            format!("{}<open>", "EN\r\n".repeat(13)),
        ),
        ("mg foo v\r\n".repeat(14), "<closed>".to_string()),
        ("version\r\n".repeat(14), "<closed>".to_string()),
        // A get or `mn` writes its replies at once, so they never stack up.
        (
            "get foo\r\n".repeat(30),
            format!("{}<open>", "END\r\n".repeat(30)),
        ),
        (
            "mn\r\n".repeat(30),
            format!("{}<open>", "MN\r\n".repeat(30)),
        ),
    ];
    let (_server, addr) = serve(&args);
    for (script, want) in &cases {
        assert_eq!(&reply_and_state(&addr, script), want, "{script:.40}");
    }
    let oom: u64 = stat(&addr, "", "response_obj_oom")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(oom, 4, "two gets, two closes");
    let Some((_mc, mc_addr)) = memcached(&args, "the read_buf_mem_limit comparison") else {
        return;
    };
    for (script, want) in &cases {
        assert_eq!(
            &reply_and_state(&mc_addr, script),
            want,
            "memcached: {script:.40}"
        );
    }
    let theirs: u64 = stat(&mc_addr, "", "response_obj_oom")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(theirs, oom, "memcached's response_obj_oom");
}

#[test]
fn help_names_no_feature_memcacheds_suite_probes_for() {
    // t/lib/MemcachedTest.pm greps `memcached -h` (the launcher runs `serve --help`) for
    // these words to decide which features the server has; none of them is here.
    // (`unix-socket` is, since `-s` is served: see tests/memcached_unix.rs.)
    let out = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).to_lowercase();
    for word in [
        "sasl",
        "ext_path",
        "proxy_config",
        "enable-ssl",
        "no_drop_privileges",
    ] {
        assert!(!help.contains(word), "{word} in the help");
    }
    assert!(help.contains("--enable-shutdown") && help.contains("--disable-cas"));
}
