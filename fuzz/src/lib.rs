//! Shared checks for cachelab's fuzz targets (`fuzz/fuzz_targets/*.rs`).
//!
//! Every target hands bytes to one of cachelab's parsers and asserts what must hold for
//! *any* input: no panic (a panic is libFuzzer's crash), no hang and no unbounded memory
//! (libFuzzer's `-timeout` and `-rss_limit_mb`), and errors that name where they happened.
//! The trace targets go further than "does not crash": they read the same bytes twice,
//! strict and lenient (`skip_bad`) with different batch sizes, and require the same
//! requests whenever the strict read succeeds.
//!
//! Work per input is bounded here, not by the readers: a valid ARC line may expand to 16 Mi
//! requests and a small zstd frame to gigabytes of text, both legitimate for real traces, so
//! the targets stop after [`MAX_REQUESTS`] requests and [`MAX_DECODED`] decompressed bytes.

use std::io::{BufRead, Cursor, Read};

use cachelab::request::Request;
use cachelab::trace::{self, Error, ReadOptions, RequestReader, TraceFormat};

/// The most requests a target reads from one input (a real trace may hold billions; the
/// point here is the parser, not the volume).
pub const MAX_REQUESTS: usize = 1 << 18;

/// The most decompressed bytes a target reads from one input.
pub const MAX_DECODED: u64 = 32 << 20;

/// The name the targets give the input, which every error must mention.
pub const PATH: &str = "fuzz-input";

/// Reads up to [`MAX_REQUESTS`] requests from `reader`, `batch` at a time, checking that
/// each `read_batch` appends exactly as many requests as it says and never more than asked.
pub fn drain(reader: &mut dyn RequestReader, batch: usize) -> Result<Vec<Request>, Error> {
    let mut out = Vec::new();
    while out.len() < MAX_REQUESTS {
        // Never past the cap, so two reads with different batch sizes stop at one place.
        let batch = batch.min(MAX_REQUESTS - out.len());
        let before = out.len();
        let n = reader.read_batch(&mut out, batch)?;
        assert_eq!(
            out.len() - before,
            n,
            "read_batch's count and what it appended"
        );
        assert!(n <= batch, "read_batch returned {n} > max {batch}");
        if n == 0 {
            // The end stays the end.
            assert_eq!(reader.read_batch(&mut out, batch)?, 0, "read after the end");
            break;
        }
    }
    Ok(out)
}

/// A reader of `format` over `data` (already decompressed).
pub fn reader(
    format: TraceFormat,
    data: &[u8],
    options: &ReadOptions,
) -> Result<Box<dyn RequestReader>, Error> {
    let input: Box<dyn BufRead + Send> = Box::new(Cursor::new(data.to_vec()));
    trace::reader_for(format, input, PATH, options)
}

/// Checks that an error renders and names the input.
pub fn check_error(error: &Error) {
    let text = error.to_string();
    assert!(text.contains(PATH), "error without the file name: {text}");
}

/// Reads `data` as `format` strictly and leniently and checks that they agree: a strict
/// read that succeeds must give the same requests as a lenient one, which skips no more
/// than the strict one did (LIRS counts its `*` markers as skipped in both modes).
pub fn check_reader(format: TraceFormat, data: &[u8], options: &ReadOptions) {
    let strict_options = ReadOptions {
        skip_bad: false,
        ..options.clone()
    };
    let lenient_options = ReadOptions {
        skip_bad: true,
        ..options.clone()
    };
    let strict = reader(format, data, &strict_options)
        .and_then(|mut r| Ok((drain(r.as_mut(), 4096)?, r.skipped())));
    let lenient = reader(format, data, &lenient_options)
        .and_then(|mut r| Ok((drain(r.as_mut(), 7)?, r.skipped())));
    if let Err(e) = &strict {
        check_error(e);
    }
    if let Err(e) = &lenient {
        check_error(e);
    }
    if let (Ok((strict, strict_skipped)), Ok((lenient, lenient_skipped))) = (&strict, &lenient) {
        assert_eq!(
            strict_skipped, lenient_skipped,
            "lenient skipped what strict accepted"
        );
        assert_eq!(
            strict.len(),
            lenient.len(),
            "strict and lenient read different counts"
        );
        if let Some(i) = (0..strict.len()).find(|&i| strict[i] != lenient[i]) {
            panic!("request {i} differs: {:?} / {:?}", strict[i], lenient[i]);
        }
    }
    if let (Ok(_), Err(e)) = (&strict, &lenient) {
        panic!("strict read succeeded where the lenient one failed: {e}");
    }
}

/// Opens `data` as `trace::open` opens a file: magic-byte decompression, then detection
/// from the name `name` and the first bytes, then the detected reader; every step may fail
/// with an error naming the input, none may panic.
pub fn check_open(name: &str, data: &[u8]) {
    let raw: Box<dyn Read + Send> = Box::new(Cursor::new(data.to_vec()));
    let input = match trace::compress::from_reader(name, raw) {
        Ok(input) => input,
        Err(e) => {
            assert!(e.to_string().contains(name), "{e}");
            return;
        }
    };
    let mut decoded = input.reader.take(MAX_DECODED);
    let mut head = Vec::with_capacity(trace::detect::HEAD_BYTES);
    if let Err(e) = (&mut decoded)
        .take(trace::detect::HEAD_BYTES as u64)
        .read_to_end(&mut head)
    {
        let e = trace::compress::read_error(name, e);
        assert!(e.to_string().contains(name), "{e}");
        return;
    }
    let whole = head.len() < trace::detect::HEAD_BYTES;
    let format = match trace::detect::detect(name, &head, whole) {
        Ok(format) => format,
        Err(e) => {
            assert!(e.to_string().contains(name), "{e}");
            return;
        }
    };
    let rest: Box<dyn BufRead + Send> = Box::new(Cursor::new(head).chain(decoded));
    let result = trace::reader_for(format, rest, name, &ReadOptions::default())
        .and_then(|mut r| drain(r.as_mut(), 1 << 12));
    if let Err(e) = result {
        assert!(e.to_string().contains(name), "{e}");
    }
}
