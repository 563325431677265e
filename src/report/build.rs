//! From results to a report: the [`Document`] a person decides from, built from
//! [`ReportInputs`].
//!
//! Sections lead with the answer and end with the detail: the capacity plan; per trace,
//! the policy that wins at each size and its gain over LRU; the miss-ratio curves and the
//! size each target needs; the cluster and the migration; the contention experiment; then
//! the traces' statistics and every simulated row. A section appears only when its inputs
//! do. Every table and chart is built from the same rows the data files hold.

use super::document::{Block, Document, Figure, Section};
use super::inputs::ReportInputs;
use super::{JsonResultRow, ResultRow, chart, cluster, contention, curve, migration, results};
use crate::units::format_bytes;

/// Builds the report of `inputs` under `title`; `intro` paragraphs say what was run.
pub fn document(inputs: &ReportInputs, title: &str, intro: Vec<String>) -> Document {
    let mut doc = Document {
        title: title.to_string(),
        intro: intro.into_iter().map(Block::Paragraph).collect(),
        sections: Vec::new(),
    };
    let sections = [
        plan_section(inputs),
        policy_section(inputs),
        curve_section(inputs),
        cluster_section(inputs),
        migration_section(inputs),
        contention_section(inputs),
        trace_section(inputs),
        detail_section(inputs),
    ];
    doc.sections.extend(sections.into_iter().flatten());
    doc
}

/// A file-name-safe form of a name: letters, digits, `-` and `_`; anything else is `_`.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The id of the `earlier`-th result (from 0) of one trace: its slug, then `_1`, `_2`…
fn numbered_slug(trace: &str, earlier: usize) -> String {
    if earlier == 0 {
        slug(trace)
    } else {
        format!("{}_{earlier}", slug(trace))
    }
}

fn figure(name: String, caption: String, chart: impl Into<super::chart::Chart>) -> Block {
    Block::Chart(Figure {
        name,
        caption,
        chart: chart.into(),
    })
}

fn plan_section(inputs: &ReportInputs) -> Option<Section> {
    if inputs.plans.is_empty() {
        return None;
    }
    let mut section = Section::new("plan", "Capacity plan");
    section.paragraph(
        "How much cache each target hit ratio needs, what memcached must be given for it once slab \
         rounding, item headers and the hash table are counted, how many nodes that is and what they \
         cost, the load left on the origin and how long a cold cache takes to warm. Run it with \
         `cachelab plan TRACE --target-hit-ratio 0.9,0.95 -p lru,s3fifo,memcached --prices prices.toml --json plan.json`.",
    );
    for (i, doc) in inputs.plans.iter().enumerate() {
        let mut sub = Section::new(format!("plan-{}", slug(&doc.trace)), doc.trace.clone());
        for sentence in plan_answers(doc) {
            sub.paragraph(sentence);
        }
        let mut table = super::plan::plan_table(doc);
        if i > 0 {
            table.name = format!("plan_{}", slug(&doc.trace));
        }
        sub.push(Block::Table(table));
        section.subsections.push(sub);
    }
    Some(section)
}

/// One sentence per target: the policy that needs the least memcached memory (the
/// cheapest, with prices), what it needs and costs, the origin load left and the warm-up;
/// or why the target cannot be met.
fn plan_answers(doc: &crate::plan::PlanDocument) -> Vec<String> {
    let mut targets: Vec<f64> = Vec::new();
    for r in &doc.rows {
        if !targets.contains(&r.target_hit_ratio) {
            targets.push(r.target_hit_ratio);
        }
    }
    targets
        .iter()
        .map(|&target| {
            let rows: Vec<&crate::plan::PlanRow> = doc
                .rows
                .iter()
                .filter(|r| r.target_hit_ratio == target && r.memcached_m_mib.is_some())
                .collect();
            let best = rows.iter().min_by(|a, b| {
                let key = |r: &crate::plan::PlanRow| {
                    (r.monthly_cost.unwrap_or(0.0), r.memcached_m_mib.unwrap_or(u64::MAX))
                };
                key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal)
            });
            let Some(best) = best else {
                return format!(
                    "A hit ratio of {target} is out of reach on {} at any size computed: see the table.",
                    doc.trace
                );
            };
            let mut text = format!(
                "For a hit ratio of {target}, {} needs {} of cache: memcached `-m {}`",
                crate::catalog::CATALOG.short_label(&best.policy),
                best.cache_bytes.map_or("-".to_string(), format_bytes),
                best.memcached_m_mib.unwrap_or_default(),
            );
            if let Some(nodes) = best.nodes {
                text.push_str(&format!(
                    " on {nodes} node{}",
                    if nodes == 1 { "" } else { "s" }
                ));
                if let Some(t) = &best.node_type {
                    text.push_str(&format!(" of type {t}"));
                }
            }
            if let (Some(cost), Some(currency)) = (best.monthly_cost, &best.currency) {
                text.push_str(&format!(", {cost:.2} {currency} a month"));
            }
            text.push('.');
            if let Some(p) = best.predicted_hit_ratio
                && p > target + 0.01
            {
                text.push_str(&format!(
                    " That is the smallest size tried, and it already hits {p:.4}: a smaller \
                     cache may do (memcached also gives each slab class in use a 1 MiB page \
                     even past a small `-m`)."
                ));
            }
            if let Some(origin) = best.origin_requests_per_s {
                text.push_str(&format!(" The origin then serves {origin:.0} requests/s"));
                match best.warmup_s {
                    Some(w) => text.push_str(&format!(", and a cold cache is warm after {w:.1} s.")),
                    None => text.push('.'),
                }
            }
            text
        })
        .collect()
}

fn traces_of(rows: &[JsonResultRow]) -> Vec<String> {
    let mut traces: Vec<String> = Vec::new();
    for r in rows {
        if !traces.contains(&r.row.trace) {
            traces.push(r.row.trace.clone());
        }
    }
    traces
}

fn policy_section(inputs: &ReportInputs) -> Option<Section> {
    let sims = inputs.sim_rows();
    if sims.is_empty() {
        return None;
    }
    let mut section = Section::new("policies", "Which policy wins");
    section.paragraph(
        "Per cache size, the policy with the highest hit ratio and what it gains over LRU at that size. \
         Sizes are shown in bytes and as a share of the trace's working set (the bytes of its distinct objects). \
         Belady's offline optimum is the bound no policy can beat. Run it with \
         `cachelab sim TRACE -p all -s 0.5%,1%,2%,5%,10%,20% --json sim.json`.",
    );
    let rows: Vec<ResultRow> = sims.iter().map(|r| r.row.clone()).collect();
    for trace in traces_of(&sims) {
        let id = slug(&trace);
        let mut sub = Section::new(format!("policies-{id}"), trace.clone());
        if let Some(sentence) = results::headline(&sims, &trace) {
            sub.paragraph(sentence);
        }
        sub.push(Block::Table(results::winners_table(
            &sims,
            &trace,
            &format!("winners_{id}"),
        )));
        sub.push(figure(
            format!("miss_ratio_{id}"),
            format!("Miss ratio against cache size on {trace}, one line per policy"),
            chart::miss_ratio_chart(&rows, &trace),
        ));
        section.subsections.push(sub);
    }
    Some(section)
}

fn curve_section(inputs: &ReportInputs) -> Option<Section> {
    if inputs.curves.is_empty() {
        return None;
    }
    let mut section = Section::new("curves", "Miss-ratio curves");
    section.paragraph(
        "The miss ratio at every cache size from one read of the trace: LRU exactly (stack distances), \
         estimated from a sample of the keys (SHARDS), from reuse times (AET) or by miniature simulations \
         of other policies; and the size each method says a target hit ratio needs. Run it with \
         `cachelab mrc TRACE -m exact -m shards:rate=0.01 -m aet --target-hit-ratio 0.5 --json mrc.json`.",
    );
    for (i, doc) in inputs.curves.iter().enumerate() {
        let earlier = inputs.curves[..i]
            .iter()
            .filter(|d| d.trace == doc.trace)
            .count();
        let id = numbered_slug(&doc.trace, earlier);
        let mut sub = Section::new(format!("curves-{id}"), doc.trace.clone());
        sub.paragraph(curve::describe(doc));
        sub.push(figure(
            format!("mrc_{id}"),
            format!("Miss-ratio curves of {} (log size axis)", doc.trace),
            curve::document_chart(doc),
        ));
        sub.push(Block::Table(curve::target_table(
            doc,
            &format!("targets_{id}"),
        )));
        section.subsections.push(sub);
    }
    Some(section)
}

fn cluster_section(inputs: &ReportInputs) -> Option<Section> {
    if inputs.clusters.is_empty() {
        return None;
    }
    let mut section = Section::new("cluster", "Cluster");
    for (i, result) in inputs.clusters.iter().enumerate() {
        let earlier = inputs.clusters[..i]
            .iter()
            .filter(|c| c.trace == result.trace)
            .count();
        let id = numbered_slug(&result.trace, earlier);
        let mut sub = Section::new(
            format!("cluster-{id}"),
            format!("{} on {} nodes", result.trace, result.nodes.len()),
        );
        sub.push(Block::List(cluster::cluster_facts(result)));
        sub.push(Block::Table(cluster::node_table(
            result,
            &format!("nodes_{id}"),
        )));
        sub.push(figure(
            format!("node_load_{id}"),
            format!("Requests and hits per node on {}", result.trace),
            chart::node_load_chart(result),
        ));
        section.subsections.push(sub);
    }
    Some(section)
}

fn migration_section(inputs: &ReportInputs) -> Option<Section> {
    if inputs.migrations.is_empty() {
        return None;
    }
    let mut section = Section::new("migration", "Migration");
    section.paragraph(
        "Moving the cache to a new cluster: each strategy replayed on its own pair of clusters. The hit ratio \
         over time shows the cold start after the switch; the origin chart shows what the database absorbs. \
         Run it with `cachelab migrate TRACE --from 4x64MiB --to 6x64MiB --strategy all --switch-at 50% --json m.json`.",
    );
    for m in &inputs.migrations {
        let id = slug(&m.name);
        let runs = migration::runs_from_rows(&m.rows);
        let mut sub = Section::new(format!("migration-{id}"), m.name.clone());
        sub.push(Block::Table(migration::summary_table(
            &m.rows,
            &format!("migration_{id}"),
        )));
        sub.push(figure(
            format!("migration_{id}_hit_ratio"),
            "Hit ratio per window, the switch marked".to_string(),
            migration::hit_ratio_chart(&runs, &m.name),
        ));
        sub.push(figure(
            format!("migration_{id}_origin"),
            "Origin requests per window".to_string(),
            migration::origin_chart(&runs, &m.name),
        ));
        section.subsections.push(sub);
    }
    Some(section)
}

fn contention_section(inputs: &ReportInputs) -> Option<Section> {
    if inputs.contention.is_empty() {
        return None;
    }
    let mut section = Section::new("contention", "Contention on one counter");
    section.paragraph(
        "The seed's `visitors` counter: many clients incrementing one key. Naive get+set loses updates \
         whenever two clients interleave; gets/cas retries instead, incr is atomic on the server, and a \
         lease serialises the writers. Run it with `cachelab contention --mode sim --json contention.json`.",
    );
    let mut modes = Vec::new();
    for r in &inputs.contention {
        if !modes.contains(&r.mode) {
            modes.push(r.mode);
        }
    }
    for mode in modes {
        let rows: Vec<_> = inputs
            .contention
            .iter()
            .filter(|r| r.mode == mode)
            .cloned()
            .collect();
        let name = mode.name();
        let mut sub = Section::new(format!("contention-{name}"), format!("mode {name}"));
        sub.paragraph(contention::describe(&rows));
        sub.push(Block::Table(contention::contention_table(
            &rows,
            &format!("contention_{name}"),
        )));
        for (stem, chart) in contention::charts(&rows) {
            sub.push(figure(
                format!("contention_{name}_{stem}"),
                format!("{} against clients ({name})", chart.title),
                chart,
            ));
        }
        section.subsections.push(sub);
    }
    Some(section)
}

fn trace_section(inputs: &ReportInputs) -> Option<Section> {
    if inputs.traces.is_empty() {
        return None;
    }
    let mut section = Section::new("traces", "Traces");
    for t in &inputs.traces {
        let mut sub = Section::new(format!("trace-{}", slug(&t.trace)), t.trace.clone());
        sub.paragraph(format!(
            "{} requests over {} distinct objects; working set {}.",
            t.stats.requests,
            t.stats.distinct_keys,
            format_bytes(t.stats.working_set_bytes)
        ));
        sub.push(Block::Preformatted(t.stats.to_string()));
        section.subsections.push(sub);
    }
    Some(section)
}

fn detail_section(inputs: &ReportInputs) -> Option<Section> {
    let rows: Vec<ResultRow> = inputs.sim_rows().into_iter().map(|r| r.row).collect();
    if rows.is_empty() {
        return None;
    }
    let mut section = Section::new("results", "Every result");
    section.push(Block::Table(results::results_table(&rows)));
    Some(section)
}
