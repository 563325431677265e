//! `lru_crawler …` and `watch …`: parsing their arguments and answering them as memcached
//! 1.6.18's `process_lru_crawler_command` and `process_watch_command` (`proto_text.c`) do.
//!
//! A crawl runs to completion inside the command (see the store's `crawler` module); a
//! metadump's lines go out with the command's reply. `watch` only registers the watcher
//! here; the connection then becomes a log stream (`server::watch`).

use super::Flow;
use crate::memcached::model::number::strtoul32;
use crate::memcached::model::store::{CrawlScope, Store, WatchMask};
use crate::memcached::wire::protocol::{Command, Frame, MetaVerb, ProtocolError};

/// memcached's reply to `watch` when watching is off (`-W`): a server that offers that
/// option answers it before [`apply_command`].
pub const WATCH_NOT_ALLOWED: &[u8] = b"CLIENT_ERROR watch commands not allowed\r\n";

/// One `lru_crawler` subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrawlerRequest {
    /// `crawl <classes>`: the raw class list (checked after the crawler is found enabled,
    /// as memcached checks).
    Crawl(Vec<u8>),
    /// `metadump <classes|all|hash>`.
    Metadump(Vec<u8>),
    /// `tocrawl <n>`.
    Tocrawl(u32),
    /// `sleep <µs>` (more than a second is refused when applied).
    Sleep(u32),
    /// `enable`.
    Enable,
    /// `disable`.
    Disable,
}

/// Parses `lru_crawler …`'s tokens (the first is `lru_crawler`).
pub fn parse(tokens: &[&[u8]]) -> Frame {
    let error = |error| Frame::Error {
        error,
        noreply: false,
    };
    let request = match tokens {
        [_, b"crawl", arg] => CrawlerRequest::Crawl(arg.to_vec()),
        [_, b"metadump", arg] => CrawlerRequest::Metadump(arg.to_vec()),
        [_, b"tocrawl", n] => match strtoul32(n) {
            Some(n) => CrawlerRequest::Tocrawl(n),
            None => return error(ProtocolError::BadCommandLine),
        },
        [_, b"sleep", n] => match strtoul32(n) {
            Some(n) => CrawlerRequest::Sleep(n),
            None => return error(ProtocolError::BadCommandLine),
        },
        [_, b"enable"] => CrawlerRequest::Enable,
        [_, b"disable"] => CrawlerRequest::Disable,
        _ => return error(ProtocolError::UnknownCommand),
    };
    Frame::Command(Command::LruCrawler(request))
}

/// Parses `watch [fetchers|mutations|evictions|…]`'s tokens: the mask, or `None` when a
/// word is unknown (answered `ERROR`, after the checks memcached makes first).
pub fn parse_watch(tokens: &[&[u8]]) -> Frame {
    let mut mask = WatchMask::default();
    let words = &tokens[1..];
    let mut known = true;
    if words.is_empty() {
        mask.fetchers = true;
    }
    for word in words {
        match *word {
            b"fetchers" => mask.fetchers = true,
            b"mutations" => mask.mutations = true,
            b"evictions" => mask.evictions = true,
            b"connevents" => mask.connevents = true,
            // Accepted; nothing in the model logs these.
            b"rawcmds" | b"sysevents" | b"proxyreqs" | b"proxyevents" | b"proxyuser" => {}
            _ => known = false,
        }
    }
    Frame::Command(Command::Watch(known.then_some(mask)))
}

/// `strtok_r` on `,` then `safe_strtoul`, each id in 1..=63, as `lru_crawler_crawl` reads
/// a class list; `None` for a bad id (`BADCLASS`).
fn scope(arg: &[u8]) -> Option<CrawlScope> {
    match arg {
        b"all" => return Some(CrawlScope::All),
        b"hash" => return Some(CrawlScope::Hash),
        _ => {}
    }
    let mut classes = Vec::new();
    for part in arg.split(|&b| b == b',').filter(|p| !p.is_empty()) {
        match strtoul32(part) {
            Some(id @ 1..=63) => classes.push(id as u8),
            _ => return None,
        }
    }
    Some(CrawlScope::Classes(classes))
}

/// True for the commands [`apply_command`] answers: those that care whether replies of
/// earlier commands are still waiting to be written.
pub fn takes_over(command: &Command) -> bool {
    matches!(command, Command::LruCrawler(_) | Command::Watch(_))
}

/// True for the commands after which memcached writes every reply it holds (`get`, `gets`,
/// `gat`, `gats` and `mn` switch the connection to `conn_mwrite`), so none is stacked.
pub fn flushes_replies(command: &Command) -> bool {
    matches!(
        command,
        Command::Get { .. }
            | Command::Gat { .. }
            | Command::Meta {
                verb: MetaVerb::NoOp,
                ..
            }
    )
}

/// Answers `lru_crawler …` or `watch …`. `pipelined`: replies of earlier commands are still
/// stacked, unwritten (memcached then refuses a metadump or a watch).
pub fn apply_command(
    command: &Command,
    store: &mut Store,
    out: &mut Vec<u8>,
    pipelined: bool,
) -> Flow {
    match command {
        Command::LruCrawler(request) => apply(store, out, request, pipelined),
        Command::Watch(mask) => {
            if pipelined {
                out.extend_from_slice(b"ERROR cannot pipeline other commands before watch\r\n");
            } else if let Some(mask) = mask {
                out.extend_from_slice(b"OK\r\n");
                return Flow::Watch(store.watch_add(*mask));
            } else {
                out.extend_from_slice(b"ERROR\r\n");
            }
        }
        _ => {}
    }
    Flow::Continue
}

/// Answers an `lru_crawler` subcommand. `pipelined`: replies of earlier commands are still
/// waiting to be written (memcached refuses a metadump then).
pub fn apply(store: &mut Store, out: &mut Vec<u8>, request: &CrawlerRequest, pipelined: bool) {
    let line: &[u8] = match request {
        CrawlerRequest::Crawl(arg) | CrawlerRequest::Metadump(arg) => {
            let metadump = matches!(request, CrawlerRequest::Metadump(_));
            if !store.crawler_enabled() {
                b"CLIENT_ERROR lru crawler disabled"
            } else if metadump && pipelined {
                b"ERROR cannot pipeline other commands before metadump"
            } else {
                match scope(arg) {
                    None => b"BADCLASS invalid class id",
                    Some(scope) => {
                        let result = if metadump {
                            store.metadump(&scope, out)
                        } else {
                            store.crawl(&scope)
                        };
                        match result {
                            // A metadump's lines and `END` are its whole reply.
                            Ok(()) if metadump => return,
                            Ok(()) => b"OK",
                            Err(refusal) => refusal.reply(),
                        }
                    }
                }
            }
        }
        CrawlerRequest::Tocrawl(n) => {
            store.set_crawler_tocrawl(*n);
            b"OK"
        }
        CrawlerRequest::Sleep(us) if *us > 1_000_000 => {
            b"CLIENT_ERROR sleep must be one second or less"
        }
        CrawlerRequest::Sleep(us) => {
            store.set_crawler_sleep(*us);
            b"OK"
        }
        CrawlerRequest::Enable => {
            if store.crawler_enable() {
                b"OK"
            } else {
                b"ERROR failed to start lru crawler thread"
            }
        }
        CrawlerRequest::Disable => {
            store.crawler_disable();
            b"OK"
        }
    };
    out.extend_from_slice(line);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_lists_read_as_memcached_reads_them() {
        assert_eq!(scope(b"1,,3"), Some(CrawlScope::Classes(vec![1, 3])));
        assert_eq!(scope(b","), Some(CrawlScope::Classes(vec![])));
        assert_eq!(scope(b"0"), None);
        assert_eq!(scope(b"64"), None);
        assert_eq!(scope(b"1,x"), None);
        assert_eq!(scope(b"all"), Some(CrawlScope::All));
    }
}
