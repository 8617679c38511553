//! From the daemon's and the store's types to the admin API's wire types
//! (`lanyard_core::admin_api`): the one place a field inside the daemon is
//! mapped onto the API's, so renaming it here is a compile error, not a
//! silent change to what the console and the CLI read.

use crate::card_set::{Broken, CardListing, CardSource, Usage};
use lanyard_core::admin_api as wire;

// The store's and the flow model's types are foreign here as much as the
// wire's are, so they convert through functions rather than `From`.

pub(crate) fn table(t: lanyard_store::TableInfo) -> wire::TableSummary {
    wire::TableSummary { name: t.name, rows: t.rows, bytes: t.bytes }
}

pub(crate) fn import_counts(s: lanyard_store::ImportStats) -> wire::ImportCounts {
    let lanyard_store::ImportStats { inserted, updated, unchanged, deleted } = s;
    wire::ImportCounts { inserted, updated, unchanged, deleted }
}

pub(crate) fn flow_version(v: lanyard_store::FlowVersion) -> wire::FlowVersion {
    let lanyard_store::FlowVersion { version, at, file, etag, action, note, source } = v;
    wire::FlowVersion { version, at, file, etag, action, note, source }
}

pub(crate) fn audit_entry(e: lanyard_store::AuditEntry) -> wire::AuditEntry {
    let lanyard_store::AuditEntry { at, flow, file, action, version, note, summary } = e;
    wire::AuditEntry { at, flow, file, action, version, note, summary }
}

impl From<CardSource> for wire::CardSource {
    fn from(s: CardSource) -> Self {
        match s {
            CardSource::Builtin => wire::CardSource::Builtin,
            CardSource::Registry => wire::CardSource::Registry,
        }
    }
}

impl From<Usage> for wire::CardUsage {
    fn from(u: Usage) -> Self {
        wire::CardUsage { calls: u.calls, errors: u.errors, fuel: u.fuel }
    }
}

impl From<Broken> for wire::CardBroken {
    fn from(b: Broken) -> Self {
        wire::CardBroken { message: b.message, kind: b.kind, since: b.since }
    }
}

impl From<CardListing> for wire::ListedCard {
    fn from(c: CardListing) -> Self {
        let CardListing {
            name,
            version,
            digest,
            source,
            description,
            group,
            input_schema,
            output_schema,
            requested,
            granted,
            size,
            used_by,
            usage,
            loaded,
            held,
            broken,
        } = c;
        wire::ListedCard {
            name,
            version,
            digest,
            source: source.into(),
            description,
            group: group.to_string(),
            input_schema,
            output_schema,
            requested,
            granted,
            size,
            used_by,
            usage: usage.into(),
            loaded,
            held,
            broken: broken.map(Into::into),
        }
    }
}

/// What starts a flow, as the flow list shows it.
pub(crate) fn flow_trigger(t: &lanyard_flow::model::Trigger) -> wire::FlowTrigger {
    use lanyard_flow::model::{CatchUp, HelperTrigger, Trigger};
    let helper = |h: &HelperTrigger| wire::HelperTrigger {
        inputs: h
            .inputs
            .iter()
            .map(|i| wire::FlowInput {
                name: i.name.clone(),
                ty: input_type(i.ty).to_string(),
                required: i.required,
                default: i.default.clone(),
                description: i.description.clone(),
            })
            .collect(),
    };
    match t {
        Trigger::Okta(o) => wire::FlowTrigger::Okta(wire::OktaTrigger {
            event_types: o.event_types.clone(),
            filter: o.filter.as_ref().map(|f| f.source().to_string()),
            include_own_events: o.include_own_events,
            org: o.org.clone(),
        }),
        Trigger::Schedule(s) => wire::FlowTrigger::Schedule(wire::ScheduleTrigger {
            cron: s.cron.clone(),
            timezone: s.timezone.name().to_string(),
            catch_up: match s.catch_up {
                CatchUp::Skip => "skip",
                CatchUp::Once => "once",
            }
            .to_string(),
            overlap: s.overlap,
        }),
        Trigger::Api(a) => wire::FlowTrigger::Api(wire::ApiTrigger { sync_timeout: a.sync_timeout.map(lanyard_core::units::format_duration) }),
        Trigger::Flow(h) => wire::FlowTrigger::Flow(helper(h)),
        Trigger::Manual(h) => wire::FlowTrigger::Manual(helper(h)),
    }
}

fn input_type(t: lanyard_flow::model::InputType) -> &'static str {
    use lanyard_flow::model::InputType as T;
    match t {
        T::String => "string",
        T::Number => "number",
        T::Integer => "integer",
        T::Boolean => "boolean",
        T::Object => "object",
        T::Array => "array",
        T::Any => "any",
    }
}

impl From<crate::flow_stats::FlowRunStats> for wire::FlowStats {
    fn from(s: crate::flow_stats::FlowRunStats) -> Self {
        wire::FlowStats {
            last_run: s.last_run.map(|r| wire::LastRun { id: r.id, status: r.status, created: r.created, ended: r.ended }),
            last_24h: s.last_24h,
            more: s.more,
        }
    }
}

impl From<crate::engine::ReloadStatus> for wire::ReloadStatus {
    fn from(s: crate::engine::ReloadStatus) -> Self {
        let crate::engine::ReloadStatus { generation, loaded_at, flows, last_error } = s;
        wire::ReloadStatus { generation, loaded_at, flows: flows as u64, last_error: last_error.map(Into::into) }
    }
}

impl From<crate::flows::LoadError> for wire::LoadError {
    fn from(e: crate::flows::LoadError) -> Self {
        let crate::flows::LoadError { at, message, diagnostics, rendered } = e;
        wire::LoadError { at, message, diagnostics: diagnostics.iter().map(diagnostic).collect(), rendered }
    }
}

/// A flow diagnostic, as validation reported it.
pub(crate) fn diagnostic(d: &lanyard_flow::Diagnostic) -> wire::Diagnostic {
    use lanyard_flow::diag::{Pos, Severity};
    let pos = |p: Pos| wire::Pos { line: p.line, col: p.col };
    wire::Diagnostic {
        severity: match d.severity {
            Severity::Error => wire::Severity::Error,
            Severity::Warning => wire::Severity::Warning,
        },
        code: d.code.to_string(),
        file: d.file.clone(),
        span: Some(wire::Span { start: pos(d.span.start), end: pos(d.span.end) }),
        message: d.message.clone(),
        step: d.step.clone(),
        help: d.help.clone(),
    }
}

/// The builder's diagram model, as the flow crate serializes it
/// (`wire::Outline` says why it is not restated).
pub(crate) fn outline(o: &lanyard_flow::outline::Outline) -> wire::Outline {
    serde_json::to_value(o).unwrap_or_default()
}

impl From<crate::engine::CancelOutcome> for wire::CancelOutcome {
    fn from(o: crate::engine::CancelOutcome) -> Self {
        match o {
            crate::engine::CancelOutcome::Dequeued => wire::CancelOutcome::Dequeued,
            crate::engine::CancelOutcome::Stopped => wire::CancelOutcome::Stopped,
        }
    }
}

impl From<crate::intake::Rejections> for wire::Rejections {
    fn from(r: crate::intake::Rejections) -> Self {
        let recent = r
            .recent
            .into_iter()
            .map(|e| {
                let crate::intake::RejectedEvent { received, source, uuid, event_type, reason } = e;
                wire::RejectedEvent { received, source, uuid, event_type, reason }
            })
            .collect();
        wire::Rejections { total: r.total, recent }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lanyard_flow::diag::{Pos, Span};

    #[test]
    fn diagnostics_keep_the_flow_crate_json() {
        let mut d = lanyard_flow::Diagnostic::error("unknown-card", "f.yaml", Span { start: Pos { line: 3, col: 5 }, end: Pos { line: 3, col: 9 } }, "no card");
        assert_eq!(serde_json::to_value(diagnostic(&d)).unwrap(), serde_json::to_value(&d).unwrap());
        d.step = Some("steps[0]".into());
        d.help = Some("publish it".into());
        assert_eq!(serde_json::to_value(diagnostic(&d)).unwrap(), serde_json::to_value(&d).unwrap());
    }
}
