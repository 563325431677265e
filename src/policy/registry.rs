//! Registry rows and the table that builds a policy from a spec.
//!
//! Each policy file declares its own row, a `pub static INFO: PolicyInfo` (Caffeine's
//! `@PolicySpec` shape): its name, what it is ([`PolicyKind`]), its parameters with
//! defaults (so `cachelab policies` and errors can list them), whether it needs the trace's
//! `next_access` (Belady), and its constructor. A [`Registry`] is a list of row providers:
//! [`super::builtin::BUILTIN`] holds this module's policies; a layer above (the crate's
//! `catalog`) adds providers such as the memcached model, which `policy` itself does not
//! import. The policy files depend on this module and `builtin` on them, never the reverse.

use super::Policy;
pub use super::spec::ParamInfo;
use super::spec::{Params, PolicySpec, SpecError};

/// What a row builds, so tools can pick the rows they want (the demo compares
/// [`PolicyKind::Eviction`] rows only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyKind {
    /// A plain eviction policy over keys with sizes.
    Eviction,
    /// A layer over a base policy (TTL expiry).
    Layer,
    /// A model of a whole cache system (the memcached model).
    Model,
}

/// What a constructor gets besides the parameters.
#[derive(Clone, Copy)]
pub struct BuildContext<'a> {
    /// Capacity in size units.
    pub capacity: u64,
    /// Seed for policies that make random choices.
    pub seed: u64,
    /// The registry doing the build, for layers that build a base policy from a spec.
    pub registry: &'a Registry,
}

/// A policy constructor: checked parameters and context in, a boxed policy out.
pub type BuildFn = fn(&Params, &BuildContext) -> Result<Box<dyn Policy>, SpecError>;

/// One registered policy.
pub struct PolicyInfo {
    /// Spec name (lowercase).
    pub name: &'static str,
    /// What the row builds.
    pub kind: PolicyKind,
    /// One line on what it is.
    pub summary: &'static str,
    /// Accepted parameters.
    pub params: &'static [ParamInfo],
    /// True when the policy reads `Request::next_access` (the engine then makes sure it is set).
    pub needs_next_access: bool,
    /// Builds the policy.
    pub build: BuildFn,
}

impl PolicyInfo {
    /// The spec that names this row with every parameter at its default, such as
    /// `s3fifo:small=0.1,threshold=1`.
    pub fn default_spec(&self) -> String {
        spec_text(
            self.name,
            self.params.iter().map(|p| (p.name, p.default.to_string())),
        )
    }
}

/// A spec string from a name and its parameters: `name` or `name:key=value,...`; what
/// [`Policy::name`] returns, so a display name parses back into the same policy.
pub fn spec_text<I, V>(name: &str, params: I) -> String
where
    I: IntoIterator<Item = (&'static str, V)>,
    V: std::fmt::Display,
{
    let mut text = name.to_string();
    for (i, (key, value)) in params.into_iter().enumerate() {
        text.push(if i == 0 { ':' } else { ',' });
        text.push_str(&format!("{key}={value}"));
    }
    text
}

/// A list of row providers, searched in order; names are unique across them (tested where
/// a registry is assembled).
pub struct Registry {
    providers: &'static [&'static [&'static PolicyInfo]],
}

impl Registry {
    /// A registry over `providers`, each a slice of rows.
    pub const fn new(providers: &'static [&'static [&'static PolicyInfo]]) -> Registry {
        Registry { providers }
    }

    /// Every row, in provider order.
    pub fn rows(&self) -> impl Iterator<Item = &'static PolicyInfo> + '_ {
        self.providers.iter().flat_map(|rows| rows.iter().copied())
    }

    /// The plain eviction policies, in registry order (every row of
    /// [`PolicyKind::Eviction`]).
    pub fn plain(&self) -> impl Iterator<Item = &'static PolicyInfo> + '_ {
        self.rows().filter(|p| p.kind == PolicyKind::Eviction)
    }

    /// Every row as readable text: name, summary, then each parameter with its default and
    /// what it controls; what `cachelab policies` prints.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for info in self.rows() {
            out.push_str(&format!("{:<10} {}\n", info.name, info.summary));
            for param in info.params {
                out.push_str(&format!(
                    "{:<10}   {}={}: {}\n",
                    "", param.name, param.default, param.help
                ));
            }
        }
        out
    }

    /// The row for `name`, or an error listing every known name.
    pub fn lookup(&self, name: &str) -> Result<&'static PolicyInfo, SpecError> {
        self.rows()
            .find(|p| p.name == name)
            .ok_or_else(|| SpecError::UnknownPolicy {
                name: name.to_string(),
                known: self.rows().map(|p| p.name).collect::<Vec<_>>().join(", "),
            })
    }

    /// A short label for a policy's display name: the name with only the parameters that
    /// differ from the row's defaults (`s3fifo:small=0.1,threshold=1` is `s3fifo`,
    /// `s3fifo:small=0.2,threshold=1` is `s3fifo:small=0.2`), for tables and chart legends;
    /// CSV and JSON keep the full spec. A name that is no spec of this registry is returned
    /// as it is.
    pub fn short_label(&self, display: &str) -> String {
        let Ok(spec) = display.parse::<PolicySpec>() else {
            return display.to_string();
        };
        let Ok(info) = self.lookup(&spec.name) else {
            return display.to_string();
        };
        let differing = spec.params.iter().filter(|(key, value)| {
            info.params
                .iter()
                .find(|p| p.name == key)
                .is_none_or(|p| !same_value(p.default, value))
        });
        let mut label = spec.name.clone();
        for (i, (key, value)) in differing.enumerate() {
            label.push(if i == 0 { ':' } else { ',' });
            label.push_str(&format!("{key}={value}"));
        }
        label
    }

    /// Checks a spec (name and parameter values) without keeping what it builds.
    pub fn check(&self, spec: &PolicySpec) -> Result<&'static PolicyInfo, SpecError> {
        // Building at capacity 1 validates parameter values too.
        self.build(spec, 1, 0)?;
        self.lookup(&spec.name)
    }

    /// Builds the policy `spec` describes at `capacity` size units; `seed` feeds
    /// randomised policies.
    pub fn build(
        &self,
        spec: &PolicySpec,
        capacity: u64,
        seed: u64,
    ) -> Result<Box<dyn Policy>, SpecError> {
        let info = self.lookup(&spec.name)?;
        let params = Params::new(info.name, &spec.params, info.params)?;
        let ctx = BuildContext {
            capacity,
            seed,
            registry: self,
        };
        (info.build)(&params, &ctx)
    }
}

/// True when two parameter texts mean the same value: equal as text, as numbers, or as
/// byte sizes (`1m` and `1048576`).
fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x == y;
    }
    matches!(
        (crate::units::parse_bytes(a), crate::units::parse_bytes(b)),
        (Ok(x), Ok(y)) if x == y
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::builtin::POLICIES;

    #[test]
    fn unknown_names_and_params_list_what_exists() {
        let err = POLICIES
            .build(&"lfu2".parse().unwrap(), 10, 0)
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("known policies: lru, fifo"),
            "{err}"
        );
        let err = POLICIES
            .build(&"lru:size=3".parse().unwrap(), 10, 0)
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("has no parameter \"size\"; its parameters: none"),
            "{err}"
        );
    }

    #[test]
    fn parameters_that_would_cache_nothing_are_refused() {
        // See: issue 12 — a window or HIR share of the whole capacity leaves the main
        // cache no room, and every request would miss.
        for spec in ["wtinylfu:window=1", "lirs:hir=1"] {
            let err = POLICIES.check(&spec.parse().unwrap()).err().unwrap();
            assert!(err.to_string().contains("from 0 to 0.999"), "{spec}: {err}");
        }
    }

    #[test]
    fn builds_each_registered_policy_and_its_name_parses_back() {
        for info in POLICIES.rows() {
            let spec: PolicySpec = info.name.parse().unwrap();
            let policy = POLICIES.build(&spec, 100, 1).unwrap();
            assert_eq!(policy.capacity(), 100);
            assert_eq!(policy.name(), info.default_spec(), "{}", info.name);
            let again = POLICIES.build(&policy.name().parse().unwrap(), 100, 1);
            assert_eq!(again.unwrap().name(), policy.name());
        }
    }

    #[test]
    fn short_labels_keep_only_parameters_that_differ_from_defaults() {
        assert_eq!(
            POLICIES.short_label("s3fifo:small=0.1,threshold=1"),
            "s3fifo"
        );
        assert_eq!(
            POLICIES.short_label("s3fifo:small=0.2,threshold=1"),
            "s3fifo:small=0.2"
        );
        assert_eq!(POLICIES.short_label("lirs:hir=0.01,stack=2.0"), "lirs");
        assert_eq!(
            POLICIES.short_label("ttl:ttl=60,base=lru,clock=requests"),
            "ttl:ttl=60,clock=requests"
        );
        assert_eq!(POLICIES.short_label("lru"), "lru");
        assert_eq!(POLICIES.short_label("not a spec!"), "not a spec!");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = POLICIES.rows().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), POLICIES.rows().count());
    }
}
