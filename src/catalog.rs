//! The catalog: every policy the tools can build, from every provider.
//!
//! [`crate::policy`] registers its own eviction policies and the TTL layer
//! ([`crate::policy::builtin::BUILTIN`]); the memcached model registers itself as a
//! provider ([`crate::memcached::model::policy::PROVIDED`]). This module sits above both, so
//! `policy` never imports the memcached model. The engine, the CLI and the demo build
//! policies through [`CATALOG`].

use crate::policy::builtin::BUILTIN;
use crate::policy::registry::Registry;

/// Every registered policy: the builtin rows, then the memcached model.
pub static CATALOG: Registry = Registry::new(&[BUILTIN, crate::memcached::model::policy::PROVIDED]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_display_name_parses_back() {
        let mut names: Vec<_> = CATALOG.rows().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOG.rows().count());
        for info in CATALOG.rows() {
            let policy = CATALOG
                .build(&info.name.parse().unwrap(), 4 << 20, 1)
                .unwrap();
            let again = CATALOG.build(&policy.name().parse().unwrap(), 4 << 20, 1);
            assert_eq!(again.unwrap().name(), policy.name(), "{}", info.name);
        }
    }

    #[test]
    fn plain_rows_leave_out_layers_and_models() {
        let plain: Vec<_> = CATALOG.plain().map(|p| p.name).collect();
        assert!(plain.contains(&"lru") && plain.contains(&"belady"));
        assert!(!plain.contains(&"ttl") && !plain.contains(&"memcached"));
    }
}
