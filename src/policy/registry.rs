//! The one table from policy names to constructors.
//!
//! Each row ([`PolicyInfo`]) names a policy, says what it is, declares its parameters with
//! defaults (so `cachelab sim --help` and errors can list them), says whether it needs the
//! trace's `next_access` (Belady), and builds it. Caffeine's simulator `Registry` is the
//! model: adding a policy is one row here.

use super::spec::{Params, PolicySpec, SpecError};
use super::{Policy, fifo::Fifo, lru::Lru};

/// One parameter a policy accepts.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    /// Name as written in the spec.
    pub name: &'static str,
    /// Default value, as text.
    pub default: &'static str,
    /// What it controls.
    pub help: &'static str,
}

/// What a constructor gets besides the parameters.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext {
    /// Capacity in size units.
    pub capacity: u64,
    /// Seed for policies that make random choices.
    pub seed: u64,
}

/// A registry row's constructor: checked parameters and context to a boxed policy.
pub type BuildFn = fn(&Params, &BuildContext) -> Result<Box<dyn Policy>, SpecError>;

/// One registered policy.
pub struct PolicyInfo {
    /// Spec name (lowercase).
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// Accepted parameters.
    pub params: &'static [ParamInfo],
    /// True when the policy reads `Request::next_access` (the engine then makes sure it is set).
    pub needs_next_access: bool,
    /// Builds the policy.
    pub build: BuildFn,
}

/// Every policy cachelab knows, in the order help text lists them.
pub static POLICIES: &[PolicyInfo] = &[
    PolicyInfo {
        name: "lru",
        summary: "least recently used",
        params: &[],
        needs_next_access: false,
        build: |_, ctx| Ok(Box::new(Lru::new(ctx.capacity))),
    },
    PolicyInfo {
        name: "fifo",
        summary: "first in, first out",
        params: &[],
        needs_next_access: false,
        build: |_, ctx| Ok(Box::new(Fifo::new(ctx.capacity))),
    },
];

/// The registry row for `name`, or an error listing every known name.
pub fn lookup(name: &str) -> Result<&'static PolicyInfo, SpecError> {
    POLICIES
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| SpecError::UnknownPolicy {
            name: name.to_string(),
            known: POLICIES
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Checks a spec (name and parameters) without building anything.
pub fn check(spec: &PolicySpec) -> Result<&'static PolicyInfo, SpecError> {
    let info = lookup(&spec.name)?;
    let params = Params::new(info.name, &spec.params, info.params)?;
    // Building at capacity 1 validates parameter values too.
    (info.build)(
        &params,
        &BuildContext {
            capacity: 1,
            seed: 0,
        },
    )?;
    Ok(info)
}

/// Builds the policy `spec` describes.
pub fn build(spec: &PolicySpec, ctx: &BuildContext) -> Result<Box<dyn Policy>, SpecError> {
    let info = lookup(&spec.name)?;
    let params = Params::new(info.name, &spec.params, info.params)?;
    (info.build)(&params, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_and_params_list_what_exists() {
        let ctx = BuildContext {
            capacity: 10,
            seed: 0,
        };
        let err = build(&"lfu2".parse().unwrap(), &ctx).err().unwrap();
        assert!(
            err.to_string().contains("known policies: lru, fifo"),
            "{err}"
        );
        let err = build(&"lru:size=3".parse().unwrap(), &ctx).err().unwrap();
        assert!(
            err.to_string()
                .contains("has no parameter \"size\"; its parameters: none"),
            "{err}"
        );
    }

    #[test]
    fn builds_each_registered_policy() {
        for info in POLICIES {
            let spec: PolicySpec = info.name.parse().unwrap();
            let policy = build(
                &spec,
                &BuildContext {
                    capacity: 100,
                    seed: 1,
                },
            )
            .unwrap();
            assert_eq!(policy.capacity(), 100);
        }
    }
}
