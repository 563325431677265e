//! `cachelab serve -s PATH` (a unix domain socket instead of TCP, memcached's `-s` and `-a`)
//! and the debug build's `debugtime` command (`--enable-debug-commands`), each exchange run
//! against the real memcached too (`/usr/bin/memcached`) where it can be: the replies must
//! agree byte for byte, after replacing what differs by nature (descriptor numbers,
//! timestamps). Without memcached the comparison is skipped loudly (and fails under
//! `CI=true`, see `common::memcached_missing`).
//!
//! See: issue 16 (memcached's own unixsocket.t, stats-conns.t and expirations.t; with a
//! server that lists `--unix-socket` in its help, memcached's test library runs every file
//! over a unix socket).

#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, memcached_missing, read_until};

/// A fresh directory for socket files, removed at the end.
fn socket_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("cl-unix")
        .tempdir_in("/tmp")
        .expect("a temporary directory")
}

/// Which server a test starts.
#[derive(Clone, Copy, Debug)]
enum Peer {
    Cachelab,
    Memcached,
}

/// The command line that starts `peer` on the unix socket `path` with `args` after it.
fn command(peer: Peer, path: &Path, args: &[&str]) -> Command {
    let mut cmd = match peer {
        Peer::Cachelab => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_cachelab"));
            c.arg("serve");
            c
        }
        Peer::Memcached => {
            let mut c = Command::new("memcached");
            c.args(["-u", "root", "-U", "0"]);
            c
        }
    };
    cmd.arg("-s").arg(path).args(args);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

/// Starts `peer` on `path` and waits until the socket accepts a connection.
fn start(peer: Peer, path: &Path, args: &[&str]) -> Server {
    let child = command(peer, path, args).spawn().expect("start the server");
    let mut server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(path).is_err() {
        assert!(
            server.0.try_wait().ok().flatten().is_none(),
            "{peer:?} exited before listening on {}",
            path.display()
        );
        assert!(Instant::now() < deadline, "{peer:?} never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// Both servers when memcached is installed, else cachelab alone (said loudly).
fn peers(check: &str) -> Vec<Peer> {
    if memcached_missing(check) {
        vec![Peer::Cachelab]
    } else {
        vec![Peer::Cachelab, Peer::Memcached]
    }
}

fn connect(path: &Path) -> UnixStream {
    let s = UnixStream::connect(path).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Sends `script` on `s` and reads until the reply ends with `end`.
fn exchange(s: &mut UnixStream, script: &str, end: &str) -> String {
    s.write_all(script.as_bytes()).unwrap();
    read_until(s, end)
}

/// Replaces every run of digits after `prefix` with `N`.
fn mask_numbers(text: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at + prefix.len()]);
        rest = &rest[at + prefix.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push('N');
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_protocol_and_stats_conns_over_a_unix_socket_match_memcached() {
    let mut seen = Vec::new();
    for peer in peers("the unix socket comparison with memcached") {
        let dir = socket_dir();
        let path = dir.path().join("m.sock");
        let _server = start(peer, &path, &[]);
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket(), "{peer:?}: a socket file");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{peer:?}: -a 700");
        let mut s = connect(&path);
        let mut reply = exchange(&mut s, "set foo 0 0 6\r\nfooval\r\nget foo\r\n", "END\r\n");
        let stats = exchange(&mut s, "stats conns\r\n", "END\r\n");
        // Descriptors and seconds differ by nature; the addresses and states must not.
        let stats = mask_numbers(&mask_numbers(&stats, "STAT "), "secs_since_last_cmd ");
        reply.push_str(&stats.replace(&path.display().to_string(), "PATH"));
        let settings = exchange(&mut s, "stats settings\r\n", "END\r\n");
        for line in settings.lines() {
            if line.starts_with("STAT domain_socket ") || line.starts_with("STAT umask ") {
                reply.push_str(&line.replace(&path.display().to_string(), "PATH"));
                reply.push('\n');
            }
        }
        seen.push((peer, reply));
    }
    let (_, cachelab) = &seen[0];
    assert_eq!(
        cachelab,
        "STORED\r\nVALUE foo 0 6\r\nfooval\r\nEND\r\n\
         STAT N:addr unix:PATH\r\nSTAT N:state conn_listening\r\nSTAT N:secs_since_last_cmd N\r\n\
         STAT N:addr ?:<AF 0>\r\nSTAT N:listen_addr unix:PATH\r\nSTAT N:state conn_parse_cmd\r\n\
         STAT N:secs_since_last_cmd N\r\nEND\r\n\
         STAT domain_socket PATH\nSTAT umask 700\n"
    );
    for (peer, reply) in &seen[1..] {
        assert_eq!(reply, cachelab, "{peer:?} and cachelab differ");
    }
}

#[test]
fn the_access_mask_sets_the_socket_files_permissions() {
    for peer in peers("the -a comparison with memcached") {
        for (mask, mode) in [("0660", 0o660), ("755", 0o755), ("0777", 0o777)] {
            let dir = socket_dir();
            let path = dir.path().join("m.sock");
            let _server = start(peer, &path, &["-a", mask]);
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert_eq!(
                meta.permissions().mode() & 0o777,
                mode,
                "{peer:?} -a {mask}"
            );
            let mut s = connect(&path);
            let settings = exchange(&mut s, "stats settings\r\n", "END\r\n");
            let umask = format!("STAT umask {:o}\r\n", mode);
            assert!(
                settings.contains(&umask),
                "{peer:?}: {umask:?} in {settings}"
            );
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve", "-s", "/tmp/never-bound.sock", "-a", "rw"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an octal access mask"), "{err}");
}

#[test]
fn a_stale_socket_file_is_replaced_and_any_other_file_refused() {
    for peer in peers("the existing-file comparison with memcached") {
        let dir = socket_dir();
        // A socket file nobody listens on (a server that did not clean up).
        let stale = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        assert!(UnixStream::connect(&stale).is_err());
        let _server = start(peer, &stale, &[]);
        let mut s = connect(&stale);
        assert_eq!(
            exchange(&mut s, "version\r\n", "\r\n").split(' ').next(),
            Some("VERSION")
        );

        // A regular file is never removed: the bind fails with memcached's exit code 71
        // (EX_OSERR). memcached's message ends in "Invalid argument" (errno is overwritten
        // before it prints); cachelab names the real cause.
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "keep me").unwrap();
        let out = command(peer, &plain, &[])
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(71), "{peer:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let expected = format!("failed to listen on UNIX socket: {}: ", plain.display());
        assert!(err.contains(&expected), "{peer:?}: {err}");
        if let Peer::Cachelab = peer {
            assert!(err.contains("Address already in use"), "{err}");
        }
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "keep me");
    }
}

#[test]
fn a_unix_socket_turns_tcp_off() {
    for peer in peers("the no-TCP comparison with memcached") {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = socket_dir();
        let path = dir.path().join("m.sock");
        let port_text = port.to_string();
        let _server = start(peer, &path, &["-p", &port_text, "-l", "127.0.0.1"]);
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "{peer:?} listens on TCP too"
        );
        let mut s = connect(&path);
        let settings = exchange(&mut s, "stats settings\r\n", "END\r\n");
        // memcached reports its -p setting even so.
        assert!(
            settings.contains(&format!("STAT tcpport {port}\r\n")),
            "{peer:?}: {settings}"
        );
    }
}

/// Appends what one read from `s` gives to `text`; fails the test when `s` was closed.
fn read_more(s: &mut UnixStream, text: &mut String) {
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).unwrap();
    assert!(
        n > 0,
        "the server closed the connection (read so far: {text:?})"
    );
    text.push_str(std::str::from_utf8(&buf[..n]).unwrap());
}

/// The first `conn_new` event in a watcher's complete lines and the `conn_close` with the
/// same descriptor, once both have arrived.
fn client_events(text: &str) -> Option<[&str; 2]> {
    let complete = &text[..text.rfind('\n')? + 1];
    let events: Vec<&str> = complete.lines().filter(|l| l.starts_with("ts=")).collect();
    let cfd = |l: &str| {
        l.split(' ')
            .find(|w| w.starts_with("cfd="))
            .map(str::to_owned)
    };
    let opened = events.iter().position(|l| l.contains(" type=conn_new "))?;
    let closed = events[opened..]
        .iter()
        .find(|l| l.contains(" type=conn_close ") && cfd(l) == cfd(events[opened]))?;
    Some([events[opened], closed])
}

#[test]
fn watch_connevents_names_unix_clients_as_memcached_does() {
    let mut seen = Vec::new();
    for peer in peers("the connevents comparison with memcached") {
        let dir = socket_dir();
        let path = dir.path().join("m.sock");
        let _server = start(peer, &path, &[]);
        let mut watcher = connect(&path);
        watcher.write_all(b"watch connevents\r\n").unwrap();
        let mut text = String::new();
        while text.len() < 4 {
            read_more(&mut watcher, &mut text);
        }
        assert!(text.starts_with("OK\r\n"), "{peer:?}: {text:?}");
        let mut client = connect(&path);
        exchange(&mut client, "version\r\n", "\r\n");
        drop(client);
        // The start-up probe's own close may be logged after the watch begins, so the
        // client's two events are picked out by its descriptor.
        let deadline = Instant::now() + Duration::from_secs(5);
        let ours = loop {
            if let Some(found) = client_events(&text) {
                break found;
            }
            assert!(
                Instant::now() < deadline,
                "{peer:?}: no client events in {text:?}"
            );
            read_more(&mut watcher, &mut text);
        };
        // Only the timestamps, log ids and descriptors differ by nature.
        let masked: Vec<String> = ours
            .iter()
            .map(|l| {
                l.split(' ')
                    .filter(|w| !w.starts_with("ts=") && !w.starts_with("gid="))
                    .map(|w| if w.starts_with("cfd=") { "cfd=N" } else { w })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        seen.push((peer, masked));
    }
    let (_, cachelab) = &seen[0];
    assert_eq!(
        cachelab,
        &[
            "type=conn_new rip=unix rport=0 transport=local cfd=N",
            "type=conn_close rip=unix rport=0 transport=local reason=normal cfd=N",
        ]
    );
    for (peer, lines) in &seen[1..] {
        assert_eq!(lines, cachelab, "{peer:?} and cachelab differ");
    }
}

#[test]
fn the_help_names_the_unix_socket_options() {
    // memcached's test library runs a file over unix sockets when the help says so.
    let help = common::ok(&["serve", "--help"]);
    assert!(help.contains("--unix-socket"), "{help}");
    assert!(help.contains("--unix-mask"), "{help}");
}

/// `cachelab serve --enable-debug-commands` on a unix socket in `dir`.
fn debug_server(dir: &Path, debug: bool) -> (Server, PathBuf) {
    let path = dir.join("d.sock");
    let args: &[&str] = if debug {
        &["--enable-debug-commands"]
    } else {
        &[]
    };
    (start(Peer::Cachelab, &path, args), path)
}

#[test]
fn debugtime_moves_the_clock_items_expire_on() {
    let dir = socket_dir();
    let (_server, path) = debug_server(dir.path(), true);
    let mut s = connect(&path);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let absolute = now + 100;
    let script =
        format!("set rel 0 50 1\r\na\r\nset abs 0 {absolute} 1\r\nb\r\nset never 0 0 1\r\nc\r\n");
    assert_eq!(
        exchange(&mut s, &script, "STORED\r\nSTORED\r\nSTORED\r\n"),
        "STORED\r\nSTORED\r\nSTORED\r\n"
    );
    // 60 seconds on: the relative one is gone, the absolute one (100 s away) is not.
    assert_eq!(exchange(&mut s, "debugtime 60\r\n", "\r\n"), "OK\r\n");
    assert_eq!(
        exchange(&mut s, "get rel abs never\r\n", "END\r\n"),
        "VALUE abs 0 1\r\nb\r\nVALUE never 0 1\r\nc\r\nEND\r\n"
    );
    // Back 30 and on 75: 105 seconds past the start, the absolute time has passed too.
    assert_eq!(exchange(&mut s, "debugtime -30\r\n", "\r\n"), "OK\r\n");
    assert_eq!(exchange(&mut s, "debugtime 75\r\n", "\r\n"), "OK\r\n");
    assert_eq!(
        exchange(&mut s, "get rel abs never\r\n", "END\r\n"),
        "VALUE never 0 1\r\nc\r\nEND\r\n"
    );
    // A relative exptime counts from the moved clock.
    assert_eq!(
        exchange(&mut s, "set later 0 10 1\r\nd\r\nget later\r\n", "END\r\n"),
        "STORED\r\nVALUE later 0 1\r\nd\r\nEND\r\n"
    );
    // Not a number: memcached's debug build says ERROR and the clock stays.
    assert_eq!(
        exchange(
            &mut s,
            "debugtime soon\r\ndebugtime\r\nget later\r\n",
            "END\r\n"
        ),
        "ERROR\r\nERROR\r\nVALUE later 0 1\r\nd\r\nEND\r\n"
    );
    assert_eq!(
        exchange(&mut s, "debugtime 10\r\nget later\r\n", "END\r\n"),
        "OK\r\nEND\r\n"
    );
}

#[test]
fn without_debug_commands_debugtime_is_an_error_as_in_a_release_memcached() {
    let dir = socket_dir();
    let script = "set k 0 5 1\r\nx\r\ndebugtime 100\r\nget k\r\n";
    let end = "END\r\n";
    let (_server, path) = debug_server(dir.path(), false);
    let cachelab = exchange(&mut connect(&path), script, end);
    assert_eq!(cachelab, "STORED\r\nERROR\r\nVALUE k 0 1\r\nx\r\nEND\r\n");
    if !memcached_missing("the release-memcached debugtime comparison") {
        let path = dir.path().join("m.sock");
        let _memcached = start(Peer::Memcached, &path, &[]);
        assert_eq!(exchange(&mut connect(&path), script, end), cachelab);
    }
}
