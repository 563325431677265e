//! Decimal numbers as C's `strtoul` family reads them, as memcached's `safe_strtoul`,
//! `safe_strtol` and `safe_strtoull` (`util.c`) accept them: leading white space and a
//! sign, decimal digits, then white space, a NUL or the end.
//!
//! A leaf that both layers use: the text protocol reads command arguments with it
//! (`wire::protocol`, the meta flags in `wire::cmd::meta`), and the store reads a stored
//! counter with it for `incr`/`decr` (memcached runs `safe_strtoull` on the item's data).

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The scan `strtoull`/`strtol` do: white space, a sign, digits. Returns the sign, the
/// magnitude (`None` on overflow past `u64`, C's `ERANGE`) and where the digits end;
/// `None` when there are no digits. Only a token that ends right after the digits, or
/// continues with white space, is a number (`safe_strto*`).
fn scan(token: &[u8]) -> Option<(bool, Option<u64>)> {
    let mut i = token.iter().take_while(|&&b| is_c_space(b)).count();
    let mut negative = false;
    if let Some(&sign @ (b'+' | b'-')) = token.get(i) {
        negative = sign == b'-';
        i += 1;
    }
    let digits = token[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let end = i + digits;
    // C stops at the first non-digit, which must be a space or the string's end: a NUL
    // inside a stored value counts as the end (`incr` of `"12\0…"` reads 12).
    if end < token.len() && !is_c_space(token[end]) && token[end] != 0 {
        return None;
    }
    let mut magnitude: Option<u64> = Some(0);
    for &d in &token[i..end] {
        magnitude = magnitude
            .and_then(|m| m.checked_mul(10))
            .and_then(|m| m.checked_add(u64::from(d - b'0')));
    }
    Some((negative, magnitude))
}

/// `safe_strtoull`: a 64-bit unsigned number; a minus sign is refused when the result
/// would be negative as a signed number.
pub fn strtoull(token: &[u8]) -> Option<u64> {
    let (negative, magnitude) = scan(token)?;
    let value = if negative {
        magnitude?.wrapping_neg()
    } else {
        magnitude?
    };
    if negative && (value as i64) < 0 {
        return None;
    }
    Some(value)
}

/// `safe_strtoul` into a `uint32_t`: as [`strtoull`], then cut to 32 bits.
pub fn strtoul32(token: &[u8]) -> Option<u32> {
    strtoull(token).map(|v| v as u32)
}

/// `safe_strtol` into an `int32_t`: C's `strtol` (64-bit `long`), then cut to 32 bits,
/// as memcached 1.6.18 does (so `2147483648` reads as `-2147483648`).
pub fn strtol32(token: &[u8]) -> Option<i64> {
    let (negative, magnitude) = scan(token)?;
    let magnitude = magnitude?;
    let value: i64 = if negative {
        if magnitude > 1 << 63 {
            return None;
        }
        (magnitude as i64).wrapping_neg()
    } else {
        i64::try_from(magnitude).ok()?
    };
    Some(i64::from(value as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_c_reads_them() {
        assert_eq!(strtoul32(b"4294967296"), Some(0));
        assert_eq!(strtoul32(b"-0"), Some(0));
        assert_eq!(strtoul32(b"+5"), Some(5));
        assert_eq!(strtoul32(b"5\t"), Some(5));
        assert_eq!(strtoul32(b"-1"), None);
        assert_eq!(strtol32(b"2147483648"), Some(-2_147_483_648));
        assert_eq!(strtol32(b"4294967297"), Some(1));
        assert_eq!(strtol32(b"-3000000000"), Some(1_294_967_296));
        assert_eq!(strtol32(b"-5"), Some(-5));
        assert_eq!(strtol32(b"99999999999999999999"), None);
        assert_eq!(strtoull(b"-18446744073709551615"), Some(1));
        assert_eq!(strtoull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(strtoull(b"18446744073709551616"), None);
        assert_eq!(strtoull(b""), None);
        assert_eq!(strtoull(b"-"), None);
    }
}
