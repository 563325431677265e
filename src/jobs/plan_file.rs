//! The sweep plan file (`PLAN.toml`): which traces, which policy groups, which cache sizes,
//! read with the `toml` crate into a checked [`super::Plan`].
//!
//! ```toml
//! sizes = ["1%", "5%", "10%", "20%"]   # as `sim -s`: "64MiB", "0.1", "1%,10%", "auto"
//! sizes_per_job = 2                    # optional: split the sizes into jobs of this many
//! objects = false                      # optional, as `sim --objects`
//! warmup = "0.1"                       # optional, as `sim --warmup` (a count or a fraction)
//! seed = 0                             # optional, as `sim --seed`
//! ops = false                          # optional, as `sim --ops`
//!
//! [[trace]]                            # one table per trace, in job order
//! path = "../traces/cpp.trace.gz"      # relative to the plan file's directory
//! name = "cpp"                         # optional: the rows' trace name (default: file name)
//! format = "lirs"                      # optional, as `sim --format`
//! csv = "key=lbn,size=size"            # optional, as `sim --csv`
//! skip_bad = false                     # optional, as `sim --skip-bad`
//!
//! [groups]                             # policy groups, in the file's order
//! classic = ["lru", "fifo", "lfu"]
//! modern = ["s3fifo:small=0.1", "sieve", "wtinylfu"]
//! ```
//!
//! Every value is checked when the plan is read, not when a job runs on some node an hour
//! later: policy specs are built once (name, parameters, a model that cannot count objects,
//! a spec that fixes its own size), sizes and warm-ups parse as `sim` parses them, names are
//! unique. Errors ([`PlanError`]) name the file, the line and column (from the spans toml
//! keeps), the problem and what was expected, after `trace::Error`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use crate::catalog::{CATALOG, PolicyList};
use crate::policy::{PolicyKind, PolicySpec};
use crate::trace::{CsvOptions, ReadOptions, TraceFormat, trace_name};
use crate::units::{CacheSize, CacheSizes, Warmup};

/// Where in a plan file something is: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `text`.
    fn at(text: &str, offset: usize) -> Position {
        let before = text.get(..offset.min(text.len())).unwrap_or(text);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a plan file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The file could not be read.
    #[error("{path}")]
    Read {
        /// The plan file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not TOML, or a value has the wrong type or form (toml's message, which
    /// says what was expected).
    #[error("{path}: {}{message}", position.map_or(String::new(), |p| format!("{p}: ")))]
    Toml {
        /// The plan file.
        path: String,
        /// Where, when toml knows.
        position: Option<Position>,
        /// What toml said.
        message: String,
    },
    /// A value is well-formed but does not make a plan (an unknown policy, an empty group,
    /// two traces of one name, …).
    #[error("{path}: {position}: {problem}; expected {expected}")]
    Invalid {
        /// The plan file.
        path: String,
        /// Where.
        position: Position,
        /// What is wrong.
        problem: String,
        /// What would be valid there.
        expected: String,
    },
}

impl PlanError {
    /// Where in the file the error is, when it is in the file.
    pub fn position(&self) -> Option<Position> {
        match self {
            PlanError::Read { .. } => None,
            PlanError::Toml { position, .. } => *position,
            PlanError::Invalid { position, .. } => Some(*position),
        }
    }
}

/// One trace of a plan.
#[derive(Debug, Clone)]
pub struct PlanTrace {
    /// The name its rows carry (`name`, or the file name without compression suffix).
    pub name: String,
    /// The path as the plan gives it (relative to the plan file's directory, or absolute).
    pub path: String,
    /// The path to open: `path` resolved against the plan file's directory.
    pub file: String,
    /// How to read it.
    pub read: ReadOptions,
}

/// A named list of policies that runs as one job (per trace and size range).
#[derive(Debug, Clone)]
pub struct PolicyGroup {
    /// The group's name (its key in `[groups]`).
    pub name: String,
    /// Its policies, in order, each checked against the catalog.
    pub policies: Vec<PolicySpec>,
}

/// A checked plan: what [`super::Plan`] is built from.
pub(super) struct Parsed {
    pub traces: Vec<PlanTrace>,
    pub groups: Vec<PolicyGroup>,
    pub sizes: Vec<CacheSize>,
    pub sizes_per_job: usize,
    pub objects: bool,
    pub warmup: Warmup,
    pub seed: u64,
    pub honour_ops: bool,
}

/// The file as toml reads it, with the spans of what later checks may refuse.
/// `[groups]`: names, in toml's sorted order, with the spans that give back the file's.
type RawGroups = BTreeMap<Spanned<String>, Spanned<Vec<Spanned<Text<PolicyList>>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    #[serde(default, rename = "trace")]
    traces: Vec<Spanned<RawTrace>>,
    groups: Option<Spanned<RawGroups>>,
    sizes: Option<Spanned<SizeList>>,
    sizes_per_job: Option<Spanned<i64>>,
    #[serde(default)]
    objects: bool,
    warmup: Option<Text<Warmup>>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    ops: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrace {
    path: Spanned<String>,
    name: Option<Spanned<String>>,
    format: Option<Text<TraceFormat>>,
    csv: Option<Text<CsvOptions>>,
    #[serde(default)]
    skip_bad: bool,
}

/// A value written as text (or as a bare TOML number) and parsed by its `FromStr`, as the
/// command line parses it; the parser's message becomes toml's, at the value's span.
struct Text<T>(T);

impl<'de, T> Deserialize<'de> for Text<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<T>, D::Error> {
        deserializer.deserialize_any(TextVisitor(PhantomData))
    }
}

/// Accepts a string or a number and parses it as text: inside the visitor, so that toml
/// gives a refusal the value's own span.
struct TextVisitor<T>(PhantomData<T>);

impl<T> Visitor<'_> for TextVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = Text<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<T>, E> {
        v.parse().map(Text).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text<T>, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text<T>, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text<T>, E> {
        self.visit_str(&v.to_string())
    }
}

/// `sizes`: one string as `sim -s` takes it (`"1%,10%"`, `"auto"`), or an array of such
/// strings and byte counts.
struct SizeList(Vec<CacheSize>);

impl<'de> Deserialize<'de> for SizeList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SizeList, D::Error> {
        deserializer.deserialize_any(SizeListVisitor)
    }
}

struct SizeListVisitor;

impl<'de> Visitor<'de> for SizeListVisitor {
    type Value = SizeList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cache sizes as `sim -s` takes them: a string such as \"1%,10%,64MiB\" or \"auto\", or an array such as [\"1%\", \"64MiB\", 1048576]",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SizeList, E> {
        let sizes: CacheSizes = v.parse().map_err(E::custom)?;
        Ok(SizeList(sizes.0))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SizeList, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SizeList, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SizeList, A::Error> {
        let mut lists = Vec::new();
        while let Some(Text(list)) = seq.next_element::<Text<CacheSizes>>()? {
            lists.push(list);
        }
        Ok(SizeList(CacheSizes::flatten(lists)))
    }
}

/// Parses and checks the plan `text`, read from `path` (which names it in errors and whose
/// directory relative trace paths start from).
pub(super) fn parse(text: &str, path: &Path) -> Result<Parsed, PlanError> {
    let shown = path.display().to_string();
    let raw: RawPlan = toml::from_str(text).map_err(|e| PlanError::Toml {
        path: shown.clone(),
        position: e.span().map(|span| Position::at(text, span.start)),
        message: e.message().trim_end().to_string(),
    })?;
    let invalid = |offset: usize, problem: String, expected: &str| PlanError::Invalid {
        path: shown.clone(),
        position: Position::at(text, offset),
        problem,
        expected: expected.to_string(),
    };
    let end = text.len();

    let Some(sizes) = raw.sizes else {
        return Err(invalid(
            end,
            "the plan has no `sizes`".into(),
            "a line such as sizes = [\"1%\", \"10%\"] or sizes = \"auto\"",
        ));
    };
    let sizes_span = sizes.span();
    let sizes = sizes.into_inner().0;
    if sizes.is_empty() {
        return Err(invalid(
            sizes_span.start,
            "`sizes` is empty".into(),
            "at least one cache size, such as [\"1%\", \"10%\"]",
        ));
    }
    let sizes_per_job = match raw.sizes_per_job {
        None => sizes.len(),
        Some(n) => match usize::try_from(*n.get_ref()) {
            Ok(k) if k > 0 => k,
            _ => {
                return Err(invalid(
                    n.span().start,
                    format!("sizes_per_job = {} splits nothing", n.get_ref()),
                    "a whole number of sizes per job, 1 or more (leave it out for all sizes in one job)",
                ));
            }
        },
    };
    let warmup = raw.warmup.map_or(Warmup::None, |w| w.0);

    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if raw.traces.is_empty() {
        return Err(invalid(
            end,
            "the plan has no trace".into(),
            "a [[trace]] table with a path, such as [[trace]] path = \"traces/cpp.trace.gz\"",
        ));
    }
    let mut traces: Vec<PlanTrace> = Vec::new();
    let mut trace_at: Vec<usize> = Vec::new();
    for entry in raw.traces {
        let raw_trace = entry.into_inner();
        let path_span = raw_trace.path.span();
        let written = raw_trace.path.into_inner();
        if written.trim().is_empty() || written == "-" {
            return Err(invalid(
                path_span.start,
                format!("trace path {written:?} is not a file"),
                "the path of a trace file (standard input cannot be shared by jobs)",
            ));
        }
        let joined = if Path::new(&written).is_absolute() {
            PathBuf::from(&written)
        } else {
            dir.join(&written)
        };
        let Some(file) = joined.to_str().map(str::to_string) else {
            return Err(invalid(
                path_span.start,
                format!("{} is not valid UTF-8", joined.display()),
                "a plan file in a directory whose path is UTF-8",
            ));
        };
        let (name, name_at) = match raw_trace.name {
            Some(name) => (name.get_ref().clone(), name.span().start),
            None => (trace_name(&written), path_span.start),
        };
        check_name(&name).map_err(|why| invalid(name_at, why, "a name of printable characters"))?;
        if let Some(i) = traces.iter().position(|t| t.name == name) {
            return Err(invalid(
                name_at,
                format!(
                    "two traces are named {name:?} (the other on line {})",
                    Position::at(text, trace_at[i]).line
                ),
                "a distinct `name` for each trace, so that their rows can be told apart",
            ));
        }
        traces.push(PlanTrace {
            name,
            path: written,
            file,
            read: ReadOptions {
                format: raw_trace.format.map(|f| f.0),
                csv: raw_trace.csv.map(|c| c.0).unwrap_or_default(),
                skip_bad: raw_trace.skip_bad,
                bytes_read: None,
            },
        });
        trace_at.push(name_at);
    }

    let Some(groups) = raw.groups else {
        return Err(invalid(
            end,
            "the plan has no [groups] table".into(),
            "a [groups] table of named policy lists, such as classic = [\"lru\", \"fifo\"]",
        ));
    };
    let groups_at = groups.span().start;
    // toml keeps tables sorted by key; the keys' spans give back the file's order.
    let mut entries: Vec<_> = groups.into_inner().into_iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    if entries.is_empty() {
        return Err(invalid(
            groups_at,
            "[groups] has no group".into(),
            "at least one named policy list, such as classic = [\"lru\", \"fifo\"]",
        ));
    }
    let mut policy_groups = Vec::new();
    for (name, list) in entries {
        let name_at = name.span().start;
        let name = name.into_inner();
        check_name(&name).map_err(|why| invalid(name_at, why, "a name of printable characters"))?;
        let list_at = list.span().start;
        let items = list.into_inner();
        if items.is_empty() {
            return Err(invalid(
                list_at,
                format!("group {name} is empty"),
                "at least one policy spec, such as [\"lru\", \"s3fifo:small=0.1\"]",
            ));
        }
        let mut policies: Vec<PolicySpec> = Vec::new();
        for item in items {
            let at = item.span().start;
            for spec in item.into_inner().0.0 {
                check_policy(&spec, raw.objects).map_err(|(problem, expected)| {
                    invalid(at, format!("group {name}: {problem}"), expected)
                })?;
                if !policies.iter().any(|p| p.text == spec.text) {
                    policies.push(spec);
                }
            }
        }
        policy_groups.push(PolicyGroup { name, policies });
    }

    Ok(Parsed {
        traces,
        groups: policy_groups,
        sizes,
        sizes_per_job,
        objects: raw.objects,
        warmup,
        seed: raw.seed,
        honour_ops: raw.ops,
    })
}

/// Names go into tab-separated job lists and the rows: no blanks-only names, no control
/// characters.
fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        Err(format!("{name:?} cannot name a trace or group"))
    } else {
        Ok(())
    }
}

/// What `run_sweep` would refuse, refused now: an unknown policy or parameter, a model of
/// memory asked to count objects, a spec that fixes its own size.
fn check_policy(spec: &PolicySpec, objects: bool) -> Result<(), (String, &'static str)> {
    let info = CATALOG.check(spec).map_err(|e| {
        (
            e.to_string(),
            "a policy spec as `cachelab policies` lists them",
        )
    })?;
    if objects && info.kind == PolicyKind::Model {
        return Err((
            format!("{spec} models memory in bytes and cannot count objects"),
            "objects = false for a plan with this policy, or a plain eviction policy",
        ));
    }
    let built = CATALOG.build(spec, 1 << 30, 0).map_err(|e| {
        (
            e.to_string(),
            "a policy spec as `cachelab policies` lists them",
        )
    })?;
    if built.capacity() != 1 << 30 {
        return Err((
            format!("{spec} sets its own memory, which would ignore the plan's sizes"),
            "the spec without its size parameter (the plan's sizes become its memory)",
        ));
    }
    Ok(())
}

/// Splits `count` sizes into consecutive ranges of `per_job` (the last may be shorter).
pub(super) fn size_ranges(count: usize, per_job: usize) -> Vec<Range<usize>> {
    (0..count)
        .step_by(per_job.max(1))
        .map(|start| start..(start + per_job.max(1)).min(count))
        .collect()
}

/// A cache size as a user would type it, and as `sim -s` parses it back: `5%`, `64MiB`,
/// `1000`.
pub fn size_text(size: CacheSize) -> String {
    match size {
        CacheSize::Percent(p) => format!("{p}%"),
        CacheSize::Absolute(bytes) => {
            for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
                if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
                    return format!("{}{unit}", bytes >> shift);
                }
            }
            bytes.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Parsed, PlanError> {
        parse(text, Path::new("plans/p.toml"))
    }

    const GOOD: &str = r#"
sizes = ["1%", "64MiB,0.2", 4096]
sizes_per_job = 2
warmup = 0.1
seed = 7

[[trace]]
path = "../traces/cpp.trace.gz"

[[trace]]
path = "/data/big.csv.zst"
name = "big"
format = "csv"
csv = "key=2,size=3"

[groups]
zeta = ["lru", "fifo,lfu"]
alpha = ["s3fifo:small=0.2,threshold=1"]
"#;

    #[test]
    fn reads_a_plan_in_the_files_order() {
        let plan = parse_text(GOOD).unwrap();
        let names: Vec<&str> = plan.traces.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["cpp.trace", "big"]);
        assert_eq!(plan.traces[0].file, "plans/../traces/cpp.trace.gz");
        assert_eq!(plan.traces[1].file, "/data/big.csv.zst");
        assert_eq!(plan.traces[1].read.format, Some(TraceFormat::Csv));
        assert_eq!(plan.traces[1].read.csv, "key=2,size=3".parse().unwrap());
        // Groups keep the file's order, not toml's sorted one.
        let groups: Vec<(&str, Vec<&str>)> = plan
            .groups
            .iter()
            .map(|g| {
                (
                    g.name.as_str(),
                    g.policies.iter().map(|p| p.text.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                ("zeta", vec!["lru", "fifo", "lfu"]),
                ("alpha", vec!["s3fifo:small=0.2,threshold=1"])
            ]
        );
        assert_eq!(
            plan.sizes,
            [
                CacheSize::Percent(1.0),
                CacheSize::Absolute(64 << 20),
                CacheSize::Percent(20.0),
                CacheSize::Absolute(4096)
            ]
        );
        assert_eq!(plan.sizes_per_job, 2);
        assert_eq!(plan.warmup, Warmup::Fraction(0.1));
        assert_eq!(plan.seed, 7);
        assert!(!plan.objects);
    }

    #[test]
    fn sizes_may_be_one_string_as_sim_takes_them() {
        let text = "sizes = \"auto\"\n[[trace]]\npath = \"t.gz\"\n[groups]\ng = [\"lru\"]\n";
        let plan = parse_text(text).unwrap();
        assert_eq!(plan.sizes.len(), 10);
        assert_eq!(plan.sizes_per_job, 10);
    }

    fn error(text: &str) -> PlanError {
        match parse_text(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_toml_error_names_the_file_the_line_and_what_was_expected() {
        let e = error("sizes = [\"1%\"]\n[[trace]]\npath = \"t.gz\"\n[groups]\ng = [\"lru\"\n");
        assert_eq!(e.position().map(|p| p.line), Some(5), "{e}");
        let text = e.to_string();
        assert!(text.starts_with("plans/p.toml: line 5"), "{text}");
        assert!(text.contains("expected"), "{text}");

        let e =
            error("sizes = [\"1%\", \"ten\"]\n[[trace]]\npath = \"t\"\n[groups]\ng = [\"lru\"]\n");
        let text = e.to_string();
        assert!(
            text.starts_with("plans/p.toml: line 1, column 16"),
            "{text}"
        );
        assert!(text.contains("a cache size"), "{text}");

        let e = error("sizes = [\"1%\"]\nsize_per_job = 2\n");
        assert_eq!(e.position().map(|p| p.line), Some(2), "{e}");
        assert!(e.to_string().contains("sizes_per_job"), "{e}");

        let e = error("sizes = [\"1%\"]\n[[trace]]\npath = \"t\"\nformat = \"parquet\"\n");
        assert_eq!(e.position().map(|p| p.line), Some(4), "{e}");
        assert!(e.to_string().contains("expected oracle"), "{e}");
    }

    #[test]
    fn an_unknown_policy_is_refused_at_its_line() {
        let e = error(
            "sizes = [\"1%\"]\n[[trace]]\npath = \"t\"\n[groups]\nok = [\"lru\"]\nbad = [\"fifo\",\n  \"lruu\"]\n",
        );
        assert_eq!(e.position().map(|p| p.line), Some(7), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("group bad: unknown policy \"lruu\""),
            "{text}"
        );
        assert!(text.contains("expected a policy spec"), "{text}");
        let e = error(
            "sizes = [\"1%\"]\n[[trace]]\npath = \"t\"\n[groups]\ng = [\"s3fifo:small=2\"]\n",
        );
        assert!(e.to_string().contains("small"), "{e}");
    }

    #[test]
    fn empty_groups_and_missing_parts_are_refused() {
        let head = "sizes = [\"1%\"]\n[[trace]]\npath = \"t\"\n";
        let e = error(&format!(
            "{head}[groups]\nclassic = [\"lru\"]\nmodern = []\n"
        ));
        assert_eq!(e.position().map(|p| p.line), Some(6), "{e}");
        assert!(e.to_string().contains("group modern is empty"), "{e}");
        let e = error(&format!("{head}[groups]\n"));
        assert!(e.to_string().contains("[groups] has no group"), "{e}");
        let e = error(head);
        assert!(e.to_string().contains("no [groups] table"), "{e}");
        let e = error("sizes = [\"1%\"]\n[groups]\ng = [\"lru\"]\n");
        assert!(e.to_string().contains("no trace"), "{e}");
        let e = error("[[trace]]\npath = \"t\"\n[groups]\ng = [\"lru\"]\n");
        assert!(e.to_string().contains("no `sizes`"), "{e}");
        let e = error("sizes = []\n[[trace]]\npath = \"t\"\n[groups]\ng = [\"lru\"]\n");
        assert!(e.to_string().contains("`sizes` is empty"), "{e}");
        let e = error(&format!(
            "sizes_per_job = 0\n{head}[groups]\ng = [\"lru\"]\n"
        ));
        assert_eq!(e.position().map(|p| p.line), Some(1), "{e}");
    }

    #[test]
    fn names_must_tell_traces_apart_and_models_need_bytes() {
        let e = error(
            "sizes = [\"1%\"]\n[[trace]]\npath = \"a/t.gz\"\n[[trace]]\npath = \"b/t.gz\"\n[groups]\ng = [\"lru\"]\n",
        );
        assert_eq!(e.position().map(|p| p.line), Some(5), "{e}");
        assert!(e.to_string().contains("the other on line 3"), "{e}");
        let e = error(
            "sizes = [\"1%\"]\nobjects = true\n[[trace]]\npath = \"t\"\n[groups]\ng = [\"memcached\"]\n",
        );
        assert!(e.to_string().contains("cannot count objects"), "{e}");
        let e = error("sizes = [\"1%\"]\n[[trace]]\npath = \"-\"\n[groups]\ng = [\"lru\"]\n");
        assert!(e.to_string().contains("standard input"), "{e}");
    }

    #[test]
    fn sizes_are_split_into_ranges_and_print_as_typed() {
        assert_eq!(size_ranges(5, 2), [0..2, 2..4, 4..5]);
        assert_eq!(size_ranges(4, 4), vec![Range { start: 0, end: 4 }]);
        assert_eq!(size_ranges(3, 10), vec![Range { start: 0, end: 3 }]);
        for text in ["0.1%", "5%", "64MiB", "1GiB", "1000", "1536"] {
            let size: CacheSize = text.parse().unwrap();
            assert_eq!(size, size_text(size).parse().unwrap());
        }
        assert_eq!(size_text(CacheSize::Absolute(3 << 20)), "3MiB");
        assert_eq!(size_text(CacheSize::Percent(0.5)), "0.5%");
    }
}
