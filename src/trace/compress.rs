//! Transparent compression: open a trace that may be gzip, zstd, xz or bzip2, and create
//! one compressed by its name.
//!
//! Reading detects the codec by the stream's **magic bytes**, never by the name alone, so a
//! misnamed `trace.bin` that is really zstd still reads:
//!
//! | codec | magic bytes | container spec |
//! | --- | --- | --- |
//! | gzip | `1f 8b` | RFC 1952 (concatenated members are read as one stream) |
//! | zstd | `28 b5 2f fd` | RFC 8878 (concatenated frames are read as one stream) |
//! | xz | `fd 37 7a 58 5a 00` | the .xz file format 1.0.4 (concatenated streams too) |
//! | bzip2 | `42 5a 68` (`BZh`) | bzip2 1.0 (concatenated streams too) |
//!
//! A decoder error (a truncated or corrupt stream) is tagged on its way out of the decoder,
//! so that [`read_error`] turns it into [`Error::Compressed`] naming the file and the codec,
//! whichever reader was pulling bytes at the time. Writing picks the codec from the output
//! name's suffix (`.gz`, `.zst`, `.xz`, `.bz2`; anything else is written plain).

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Error;
use crate::atomic_file::AtomicFile;

/// Buffer size for reading: large enough that block readers bypass it with direct reads.
const READ_BUFFER: usize = 1 << 20;

/// A compression codec cachelab reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Not compressed.
    None,
    /// gzip (RFC 1952).
    Gzip,
    /// Zstandard (RFC 8878).
    Zstd,
    /// xz (LZMA2).
    Xz,
    /// bzip2.
    Bzip2,
}

impl Codec {
    /// The codec's name as used in messages: `none`, `gzip`, `zstd`, `xz`, `bzip2`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
            Codec::Xz => "xz",
            Codec::Bzip2 => "bzip2",
        }
    }

    /// The codec whose magic bytes start `head`; [`Codec::None`] when none does.
    pub fn from_magic(head: &[u8]) -> Codec {
        if head.starts_with(&[0x1f, 0x8b]) {
            Codec::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Codec::Zstd
        } else if head.starts_with(&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) {
            Codec::Xz
        } else if head.starts_with(b"BZh") {
            Codec::Bzip2
        } else {
            Codec::None
        }
    }

    /// The codec a file name asks for by its suffix (`.gz`, `.zst`/`.zstd`, `.xz`, `.bz2`).
    pub fn from_name(path: &str) -> Codec {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".gz") {
            Codec::Gzip
        } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Codec::Zstd
        } else if lower.ends_with(".xz") {
            Codec::Xz
        } else if lower.ends_with(".bz2") {
            Codec::Bzip2
        } else {
            Codec::None
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `path` without its compression suffix, so that format detection sees `x.csv` in `x.csv.gz`.
pub fn strip_compression_suffix(path: &str) -> &str {
    let lower = path.to_ascii_lowercase();
    for suffix in [".gz", ".zst", ".zstd", ".xz", ".bz2"] {
        if lower.ends_with(suffix) {
            return &path[..path.len() - suffix.len()];
        }
    }
    path
}

/// A decoder error, tagged with the codec so that [`read_error`] can recognise it.
#[derive(Debug)]
struct CodecError {
    codec: Codec,
    source: io::Error,
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.codec, self.source)
    }
}

impl std::error::Error for CodecError {}

/// Wraps a decoder and tags every error it returns with the codec.
struct Decoded<R> {
    inner: R,
    codec: Codec,
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|source| {
            if source.kind() == io::ErrorKind::Interrupted {
                return source;
            }
            let kind = source.kind();
            io::Error::new(
                kind,
                CodecError {
                    codec: self.codec,
                    source,
                },
            )
        })
    }
}

/// Turns an I/O error met while reading `path` into a trace [`Error`]: a decoder error
/// becomes [`Error::Compressed`] with its codec, anything else [`Error::Io`].
pub fn read_error(path: &str, error: io::Error) -> Error {
    let tagged = error
        .get_ref()
        .is_some_and(|inner| inner.is::<CodecError>());
    if !tagged {
        return Error::io(path, error);
    }
    let kind = error.kind();
    match error
        .into_inner()
        .map(|inner| inner.downcast::<CodecError>())
    {
        Some(Ok(tagged)) => Error::Compressed {
            path: path.to_string(),
            codec: tagged.codec.name(),
            source: tagged.source,
        },
        Some(Err(other)) => Error::io(path, io::Error::new(kind, other)),
        None => Error::io(path, io::Error::from(kind)),
    }
}

/// An opened input: the decompressed bytes and the codec that was detected.
pub struct Input {
    /// The decompressed stream, buffered.
    pub reader: Box<dyn BufRead + Send>,
    /// The codec found from the magic bytes.
    pub codec: Codec,
}

/// Opens `path` (`-` is standard input), detecting compression from the magic bytes.
pub fn open(path: &str) -> Result<Input, Error> {
    open_counted(path, None)
}

/// [`open`], adding the raw (still compressed) bytes read from the file to `counter` as they
/// are read, so a progress bar can show how far through the file a reader is.
pub fn open_counted(path: &str, counter: Option<Arc<AtomicU64>>) -> Result<Input, Error> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| Error::io(path, e))?)
    };
    let raw: Box<dyn Read + Send> = match counter {
        Some(counter) => Box::new(Counting {
            inner: raw,
            counter,
        }),
        None => raw,
    };
    from_reader(path, raw)
}

/// A reader that adds every byte it reads to a shared counter.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Like [`open`], over any byte source; `path` is only used in messages.
pub fn from_reader(path: &str, mut raw: Box<dyn Read + Send>) -> Result<Input, Error> {
    // Read the magic bytes with a loop: a pipe may deliver fewer bytes than asked for.
    let mut magic = [0u8; 6];
    let mut got = 0;
    while got < magic.len() {
        match raw.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let codec = Codec::from_magic(&magic[..got]);
    let joined = io::Cursor::new(magic[..got].to_vec()).chain(raw);
    let decoded: Box<dyn Read + Send> = match codec {
        Codec::None => Box::new(joined),
        Codec::Gzip => Box::new(Decoded {
            inner: flate2::read::MultiGzDecoder::new(joined),
            codec,
        }),
        Codec::Zstd => {
            let decoder = zstd::stream::read::Decoder::new(joined).map_err(|e| {
                read_error(
                    path,
                    io::Error::new(e.kind(), CodecError { codec, source: e }),
                )
            })?;
            Box::new(Decoded {
                inner: decoder,
                codec,
            })
        }
        Codec::Xz => Box::new(Decoded {
            inner: xz2::read::XzDecoder::new_multi_decoder(joined),
            codec,
        }),
        Codec::Bzip2 => Box::new(Decoded {
            inner: bzip2::read::MultiBzDecoder::new(joined),
            codec,
        }),
    };
    Ok(Input {
        reader: Box::new(BufReader::with_capacity(READ_BUFFER, decoded)),
        codec,
    })
}

/// A trace being written, compressed by its name; call [`Output::finish`] to flush it and
/// see any error (dropping it finishes too, but silently).
pub struct Output {
    path: String,
    inner: Sink,
}

enum Sink {
    Plain(BufWriter<AtomicFile>),
    Gzip(flate2::write::GzEncoder<BufWriter<AtomicFile>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<AtomicFile>>),
    Xz(xz2::write::XzEncoder<BufWriter<AtomicFile>>),
    Bzip2(bzip2::write::BzEncoder<BufWriter<AtomicFile>>),
}

impl Output {
    /// The path being written (for messages).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Ends the compressed stream, flushes everything and puts the file in place; an
    /// `Output` dropped without this leaves the target untouched.
    pub fn finish(self) -> Result<(), Error> {
        let path = self.path;
        let buffered = match self.inner {
            Sink::Plain(w) => Ok(w),
            Sink::Gzip(w) => w.finish(),
            Sink::Zstd(w) => w.finish(),
            Sink::Xz(w) => w.finish(),
            Sink::Bzip2(w) => w.finish(),
        };
        buffered
            .and_then(|w| w.into_inner().map_err(io::IntoInnerError::into_error))
            .and_then(AtomicFile::commit)
            .map_err(|e| Error::io(&path, e))
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
            Sink::Zstd(w) => w.write(buf),
            Sink::Xz(w) => w.write(buf),
            Sink::Bzip2(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Gzip(w) => w.write_all(buf),
            Sink::Zstd(w) => w.write_all(buf),
            Sink::Xz(w) => w.write_all(buf),
            Sink::Bzip2(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
            Sink::Xz(w) => w.flush(),
            Sink::Bzip2(w) => w.flush(),
        }
    }
}

/// Starts writing `path` (`-` is standard output) through an [`AtomicFile`]: the file
/// appears, complete, only when [`Output::finish`] succeeds, and an existing regular file
/// is replaced only with `force`. Compression follows the suffix: `.gz` gzip level 6,
/// `.zst` zstd level 3 with a content checksum (a flipped byte is then an error when read),
/// `.xz` xz preset 6, `.bz2` bzip2 level 9, anything else plain.
pub fn create(path: &str, force: bool) -> Result<Output, Error> {
    let file =
        AtomicFile::create(std::path::Path::new(path), force).map_err(|e| Error::io(path, e))?;
    let buffered = BufWriter::with_capacity(1 << 16, file);
    let inner = match Codec::from_name(path) {
        Codec::None => Sink::Plain(buffered),
        Codec::Gzip => Sink::Gzip(flate2::write::GzEncoder::new(
            buffered,
            flate2::Compression::default(),
        )),
        Codec::Zstd => {
            let mut encoder =
                zstd::stream::write::Encoder::new(buffered, 3).map_err(|e| Error::io(path, e))?;
            encoder
                .include_checksum(true)
                .map_err(|e| Error::io(path, e))?;
            Sink::Zstd(encoder)
        }
        Codec::Xz => Sink::Xz(xz2::write::XzEncoder::new(buffered, 6)),
        Codec::Bzip2 => Sink::Bzip2(bzip2::write::BzEncoder::new(
            buffered,
            bzip2::Compression::best(),
        )),
    };
    Ok(Output {
        path: path.to_string(),
        inner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compressed(codec_name: &str, data: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(format!("x.{codec_name}"));
        let path = path.to_str().expect("utf-8 temp path");
        let mut out = create(path, false).expect("create");
        out.write_all(data).expect("write");
        out.finish().expect("finish");
        std::fs::read(path).expect("read back")
    }

    fn read_everything(path: &str, bytes: Vec<u8>) -> Result<(Codec, Vec<u8>), Error> {
        let mut input = from_reader(path, Box::new(io::Cursor::new(bytes)))?;
        let mut all = Vec::new();
        input
            .reader
            .read_to_end(&mut all)
            .map_err(|e| read_error(path, e))?;
        Ok((input.codec, all))
    }

    #[test]
    fn a_flipped_byte_in_a_written_zst_is_an_error_not_other_data() {
        // See: issue 12 — without a content checksum a corrupted .zst read back as
        // plausible requests with exit 0.
        let data: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut bytes = compressed("zst", &data);
        let (_, back) = read_everything("x.zst", bytes.clone()).expect("intact");
        assert_eq!(back, data);
        // Every flip is caught (by the decoder or the checksum): no silent wrong data.
        for offset in (20..bytes.len() - 8).step_by(97) {
            bytes[offset] ^= 0x10;
            assert!(
                read_everything("x.zst", bytes.clone()).is_err(),
                "flip at {offset}"
            );
            bytes[offset] ^= 0x10;
        }
    }

    #[test]
    fn every_codec_round_trips_and_is_found_by_magic_bytes() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for (suffix, codec) in [
            ("gz", Codec::Gzip),
            ("zst", Codec::Zstd),
            ("xz", Codec::Xz),
            ("bz2", Codec::Bzip2),
            ("bin", Codec::None),
        ] {
            let bytes = compressed(suffix, &data);
            // The name given to the reader says nothing: detection is by content.
            let (found, back) = read_everything("misnamed.bin", bytes).expect("decode");
            assert_eq!(found, codec);
            assert_eq!(back, data);
        }
    }

    #[test]
    fn truncated_streams_name_the_file_and_codec() {
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
            .collect();
        for (suffix, name) in [
            ("gz", "gzip"),
            ("zst", "zstd"),
            ("xz", "xz"),
            ("bz2", "bzip2"),
        ] {
            let mut bytes = compressed(suffix, &data);
            bytes.truncate(bytes.len() / 2);
            let err = read_everything("cut.trace", bytes).expect_err("truncated stream must fail");
            match &err {
                Error::Compressed { path, codec, .. } => {
                    assert_eq!(path, "cut.trace");
                    assert_eq!(*codec, name);
                }
                other => panic!("{suffix}: expected Error::Compressed, got {other:?}"),
            }
            assert!(err.to_string().contains("cut.trace"));
        }
    }

    #[test]
    fn compression_suffixes_are_stripped_for_detection() {
        assert_eq!(strip_compression_suffix("a/OLTP.lis.zst"), "a/OLTP.lis");
        assert_eq!(strip_compression_suffix("cs.trace.GZ"), "cs.trace");
        assert_eq!(strip_compression_suffix("x.csv"), "x.csv");
    }
}
