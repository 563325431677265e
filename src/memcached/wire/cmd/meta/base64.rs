//! Base64 as memcached 1.6.18's `base64.c` does it for the meta commands' `b` flag (keys
//! sent base64-encoded): the standard alphabet with `=` padding, no line breaks.
//!
//! Decoding is memcached's, quirks included, because the key it yields decides which
//! item a command reaches: bytes outside the alphabet are skipped; the count of the
//! others (`=` included) must be a non-zero multiple of four; decoding stops after the
//! first group of four that holds padding, dropping one byte per `=` (three or four `=`
//! in a group is an error). An error is `None`, as is an empty result.

/// The standard base64 alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The 6-bit value of an alphabet byte, 0 for `=`, `None` for any other byte.
fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        b'=' => Some(0),
        _ => None,
    }
}

/// Encodes `bytes` (`base64_encode`).
pub fn encode(bytes: &[u8], out: &mut Vec<u8>) {
    let symbol = |v: u32| ALPHABET[(v & 0x3f) as usize];
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        out.push(symbol(v >> 18));
        out.push(symbol(v >> 12));
        out.push(if group.len() > 1 {
            symbol(v >> 6)
        } else {
            b'='
        });
        out.push(if group.len() > 2 { symbol(v) } else { b'=' });
    }
}

/// Decodes `text` as memcached does (see the module docs); `None` where memcached's
/// `base64_decode` returns 0.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let count = text.iter().filter(|&&b| sextet(b).is_some()).count();
    if count == 0 || count % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(count / 4 * 3);
    let mut block = [0u8; 4];
    let mut filled = 0;
    let mut pad = 0;
    for &byte in text {
        let Some(v) = sextet(byte) else { continue };
        if byte == b'=' {
            pad += 1;
        }
        block[filled] = v;
        filled += 1;
        if filled == 4 {
            out.push(block[0] << 2 | block[1] >> 4);
            out.push(block[1] << 4 | block[2] >> 2);
            out.push(block[2] << 6 | block[3]);
            filled = 0;
            if pad > 0 {
                if pad > 2 {
                    return None;
                }
                out.truncate(out.len() - pad);
                break;
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    fn enc(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        encode(bytes, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_rfc4648_vectors() {
        // RFC 4648, section 10.
        let cases = [
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(enc(plain.as_bytes()), coded);
            assert_eq!(decode(coded.as_bytes()).unwrap(), plain.as_bytes());
        }
        assert_eq!(enc(b""), "");
    }

    #[test]
    fn decodes_the_katakana_key_of_metaget_t() {
        // "tesuto" in katakana, UTF-8: the key t/metaget.t stores with `b`.
        let key = decode(b"44OG44K544OI").unwrap();
        assert_eq!(key, "テスト".as_bytes());
        assert_eq!(enc(&key), "44OG44K544OI");
    }

    #[test]
    fn follows_memcached_quirks() {
        // Not a multiple of four symbols, or none.
        assert_eq!(decode(b"Zm9"), None);
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"!!!!"), None);
        // Bytes outside the alphabet are skipped.
        assert_eq!(decode(b"Zm-9v").unwrap(), b"foo");
        // Decoding stops after the first padded group.
        assert_eq!(decode(b"Zg==Zm9v").unwrap(), b"f");
        // Three `=` in a group is an error, so is an empty result.
        assert_eq!(decode(b"Z==="), None);
        assert_eq!(decode(b"===="), None);
    }
}
