//! The catalog: every policy the tools can build, from every provider.
//!
//! [`crate::policy`] registers its own eviction policies and the TTL layer
//! ([`crate::policy::builtin::BUILTIN`]); the memcached model registers itself as a
//! provider ([`crate::memcached::model::policy::PROVIDED`]). This module sits above both, so
//! `policy` never imports the memcached model. The engine, the CLI and the demo build
//! policies through [`CATALOG`]. [`parse_policy_list`] reads the lists users type
//! (`lru,arc`, `all`), as libCacheSim's `cachesim` takes them.

use crate::policy::builtin::BUILTIN;
use crate::policy::registry::Registry;
use crate::policy::{PolicySpec, SpecError};

/// Every registered policy: the builtin rows, then the memcached model.
pub static CATALOG: Registry = Registry::new(&[BUILTIN, crate::memcached::model::policy::PROVIDED]);

/// Parses a comma-separated list of policy specs, or `all` for every plain eviction policy
/// ([`Registry::plain`]) with its defaults.
///
/// A spec's own parameters are comma-separated too (`s3fifo:small=0.2,threshold=1`), so a
/// segment continues the previous spec when it is `key=value` (it has an `=` and no `:`
/// before it) and its key is not a policy name; any other segment starts a new spec. Each
/// spec is checked for syntax only: names and values are checked when the policy is built.
///
/// ```
/// use cachelab::catalog::parse_policy_list;
/// let specs = parse_policy_list("lru,s3fifo:small=0.2,threshold=1,arc").unwrap();
/// let texts: Vec<&str> = specs.iter().map(|s| s.text.as_str()).collect();
/// assert_eq!(texts, ["lru", "s3fifo:small=0.2,threshold=1", "arc"]);
/// assert!(parse_policy_list("all").unwrap().len() > 5);
/// ```
pub fn parse_policy_list(text: &str) -> Result<Vec<PolicySpec>, SpecError> {
    if text.trim().eq_ignore_ascii_case("all") {
        return CATALOG.plain().map(|info| info.name.parse()).collect();
    }
    let mut specs: Vec<String> = Vec::new();
    for segment in text.split(',') {
        let continues = match (segment.find('='), segment.find(':')) {
            (Some(eq), colon) if colon.is_none_or(|c| c > eq) => {
                let key = segment[..eq].trim().to_ascii_lowercase();
                CATALOG.lookup(&key).is_err()
            }
            _ => false,
        };
        match specs.last_mut() {
            Some(spec) if continues => {
                spec.push(',');
                spec.push_str(segment);
            }
            _ => specs.push(segment.to_string()),
        }
    }
    specs
        .iter()
        .map(|spec| {
            if spec.trim().is_empty() {
                Err(SpecError::Syntax {
                    text: text.to_string(),
                    expected: "a comma-separated list of policy specs with no empty item, such as lru,arc or s3fifo:small=0.2,lru, or all".into(),
                })
            } else {
                spec.parse()
            }
        })
        .collect()
}

/// A list of policy specs as one command-line value (`lru,arc`, `all`), read by
/// [`parse_policy_list`]; commands that take `-p` several times flatten the lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyList(pub Vec<PolicySpec>);

impl PolicyList {
    /// The specs of several lists (`-p lru,arc -p fifo`), in order, each spec once (a spec
    /// given twice, as the same text, would only repeat its rows).
    pub fn flatten(lists: impl IntoIterator<Item = PolicyList>) -> Vec<PolicySpec> {
        let mut out: Vec<PolicySpec> = Vec::new();
        for spec in lists.into_iter().flat_map(|list| list.0) {
            if !out.iter().any(|seen| seen.text == spec.text) {
                out.push(spec);
            }
        }
        out
    }
}

impl std::str::FromStr for PolicyList {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<PolicyList, SpecError> {
        parse_policy_list(text).map(PolicyList)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(list: &str) -> Vec<String> {
        parse_policy_list(list)
            .unwrap_or_else(|e| panic!("{list}: {e}"))
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn lists_split_between_specs_not_inside_them() {
        assert_eq!(texts("lru,arc"), ["lru", "arc"]);
        assert_eq!(texts(" lru , arc "), ["lru", "arc"]);
        assert_eq!(
            texts("s3fifo:small=0.2,threshold=1"),
            ["s3fifo:small=0.2,threshold=1"]
        );
        assert_eq!(
            texts("lru,s3fifo:small=0.2,threshold=1,arc,fifo"),
            ["lru", "s3fifo:small=0.2,threshold=1", "arc", "fifo"]
        );
        // A TTL layer's base spec uses `;` for its own commas and may contain colons.
        assert_eq!(
            texts("ttl:base=s3fifo:small=0.1;threshold=1,lru"),
            ["ttl:base=s3fifo:small=0.1;threshold=1", "lru"]
        );
        // Parameters keep their values whole.
        let specs = parse_policy_list("s3fifo:small=0.2,threshold=1").unwrap();
        assert_eq!(
            specs[0].params,
            vec![
                ("small".to_string(), "0.2".to_string()),
                ("threshold".to_string(), "1".to_string())
            ]
        );
    }

    #[test]
    fn flattened_lists_keep_order_and_drop_repeats() {
        let lists = ["lru,arc", "fifo,lru"].map(|t| t.parse::<PolicyList>().unwrap());
        let names: Vec<String> = PolicyList::flatten(lists)
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(names, ["lru", "arc", "fifo"]);
    }

    #[test]
    fn all_is_every_plain_policy() {
        let all = texts("all");
        let plain: Vec<&str> = CATALOG.plain().map(|p| p.name).collect();
        assert_eq!(all, plain);
        assert_eq!(texts("ALL").len(), plain.len());
    }

    #[test]
    fn bad_lists_are_errors() {
        for bad in ["", "lru,,arc", "lru,", ",lru"] {
            let err = parse_policy_list(bad).expect_err(bad).to_string();
            assert!(err.contains("no empty item"), "{bad}: {err}");
        }
        // A parameter with no spec before it.
        assert!(parse_policy_list("small=0.2").is_err());
        // A `key=value` whose key is a policy name starts a new (bad) spec.
        assert!(parse_policy_list("s3fifo:small=0.2,lru=1").is_err());
    }

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
