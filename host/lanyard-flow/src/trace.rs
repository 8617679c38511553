//! The readable step-by-step trace of one run (`lanyard run`, `lanyard history
//! show`).
//!
//! Pure text from history records: what started the run, how it ended, then
//! every step in the order it started, nested under its branch, loop or
//! handler, with status, duration, abbreviated input and output, retries,
//! log lines, errors and, in a dry run, the writes a step would have done.
//! Knows nothing of where records are stored.

use chrono::{DateTime, Utc};
use lanyard_core::history::{ErrorInfo, RunRecord, StepRecord};
use serde_json::Value;
use std::fmt::Write as _;

/// How much to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceOptions {
    /// Longest input/output shown per step, in characters.
    pub max_value_chars: usize,
    /// Log lines shown per step.
    pub max_log_lines: usize,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            max_value_chars: 160,
            max_log_lines: 10,
        }
    }
}

/// Render a run and its step records as text.
pub fn render_trace(run: &RunRecord, steps: &[StepRecord], opts: &TraceOptions) -> String {
    let mut out = String::new();
    let _ = write!(out, "run {}  flow \"{}\"", run.id, run.flow);
    if run.dry_run {
        out.push_str("  (dry run: writes were recorded, not done)");
    }
    out.push('\n');
    let _ = writeln!(out, "trigger  {}", run.trigger);
    let took = match (run.started, run.ended) {
        (Some(s), Some(e)) => format!(" in {}", duration_text(ms_between(s, e))),
        _ => String::new(),
    };
    let _ = writeln!(out, "status   {}{took}", run.status);
    if let Some(reason) = &run.reason {
        let _ = writeln!(out, "reason   {reason}");
    }
    if let Some(output) = &run.output {
        let _ = writeln!(out, "output   {}", abbreviate(output, opts.max_value_chars));
    }
    if let Some(e) = &run.error {
        let _ = writeln!(out, "error    {}", error_text(e));
    }
    out.push('\n');

    let mut order: Vec<&StepRecord> = steps.iter().collect();
    order.sort_by_key(|s| s.seq);
    if order.is_empty() {
        out.push_str("  (no steps ran)\n");
    }
    // Ancestors still open, as paths; a record nests under the last one whose
    // path is a prefix of its own.
    let mut open: Vec<&str> = Vec::new();
    for step in order {
        while let Some(top) = open.last() {
            if is_under(&step.path, top) {
                break;
            }
            open.pop();
        }
        let depth = open.len();
        let name = match open.last() {
            Some(parent) => step.path[parent.len()..].trim_start_matches('/'),
            None => step.path.as_str(),
        };
        let indent = "  ".repeat(depth + 1);
        let mark = if step.error.is_some() { "✗" } else { "✓" };
        let what = match &step.card {
            Some(card) => format!("card {card}"),
            None => step.kind.clone(),
        };
        // Narrower names deeper down keep the card column aligned.
        let width = 28usize.saturating_sub(2 * depth).max(8);
        let _ = write!(
            out,
            "{indent}{mark} {name:<width$} {what:<34} {:>7}",
            duration_text(step.duration_ms)
        );
        if step.attempts > 1 {
            let _ = write!(out, "  {} attempts", step.attempts);
        }
        if step.fuel_used > 0 {
            let _ = write!(out, "  fuel {}", step.fuel_used);
        }
        out.push('\n');
        let detail = format!("{indent}    ");
        match step.kind.as_str() {
            "card" | "call" => {
                if let Some(input) = &step.input {
                    let _ = writeln!(
                        out,
                        "{detail}in:   {}",
                        abbreviate(input, opts.max_value_chars)
                    );
                }
                if let Some(output) = &step.output {
                    let _ = writeln!(
                        out,
                        "{detail}out:  {}",
                        abbreviate(output, opts.max_value_chars)
                    );
                }
            }
            "if" => {
                if let Some(Value::Bool(b)) = &step.output {
                    let _ = writeln!(out, "{detail}took: {}", if *b { "then" } else { "else" });
                }
            }
            "switch" => {
                if let Some(m) = step.output.as_ref().and_then(|o| o.get("matched")) {
                    let branch = m
                        .as_str()
                        .map(|s| format!("case {s}"))
                        .unwrap_or_else(|| "default".into());
                    let _ = writeln!(out, "{detail}took: {branch}");
                }
            }
            "for_each" => {
                if let Some(n) = step.input.as_ref().and_then(|i| i.get("items")) {
                    let _ = writeln!(out, "{detail}items: {n}");
                }
            }
            _ => {
                if let Some(output) = &step.output {
                    let _ = writeln!(
                        out,
                        "{detail}out:  {}",
                        abbreviate(output, opts.max_value_chars)
                    );
                }
            }
        }
        for line in step.logs.iter().take(opts.max_log_lines) {
            let _ = writeln!(
                out,
                "{detail}log:  {} {}",
                line.level,
                one_line(&line.message, opts.max_value_chars)
            );
        }
        if step.logs.len() > opts.max_log_lines {
            let _ = writeln!(
                out,
                "{detail}log:  ({} more lines)",
                step.logs.len() - opts.max_log_lines
            );
        }
        for effect in &step.effects {
            let _ = writeln!(
                out,
                "{detail}would: {} {} {}",
                effect.capability,
                effect.operation,
                abbreviate(&effect.args, opts.max_value_chars)
            );
        }
        if let Some(e) = &step.error {
            let here = e.step.as_deref() == Some(step.path.as_str());
            if here || step.kind == "card" {
                let _ = writeln!(
                    out,
                    "{detail}error: {}: {}",
                    e.kind,
                    one_line(&e.message, 400)
                );
                if let Some(d) = &e.detail {
                    let _ = writeln!(out, "{detail}       {}", one_line(d, opts.max_value_chars));
                }
            } else {
                let _ = writeln!(
                    out,
                    "{detail}error: from {}",
                    e.step.as_deref().unwrap_or("a step inside")
                );
            }
        }
        open.push(step.path.as_str());
    }
    out
}

/// Whether `path` is inside the step at `parent`.
fn is_under(path: &str, parent: &str) -> bool {
    path.len() > parent.len()
        && path.starts_with(parent)
        && matches!(path.as_bytes()[parent.len()], b'/' | b'[')
}

fn error_text(e: &ErrorInfo) -> String {
    let mut s = format!("{}: {}", e.kind, one_line(&e.message, 400));
    match (&e.step, &e.card) {
        (Some(step), Some(card)) => {
            let _ = write!(s, " (at {step}, card {card})");
        }
        (Some(step), None) => {
            let _ = write!(s, " (at {step})");
        }
        _ => {}
    }
    s
}

fn ms_between(a: DateTime<Utc>, b: DateTime<Utc>) -> u64 {
    (b - a).num_milliseconds().max(0) as u64
}

/// `12ms`, `1.2s`, `2m03s`.
pub fn duration_text(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// Compact JSON, cut to `max` characters.
pub fn abbreviate(v: &Value, max: usize) -> String {
    one_line(&v.to_string(), max)
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_by_path() {
        assert!(is_under("loop[3]/remove", "loop"));
        assert!(is_under("a/on_error/b", "a"));
        assert!(!is_under("ab", "a"));
        assert!(!is_under("a", "a"));
    }

    #[test]
    fn abbreviates_long_values() {
        let v = serde_json::json!({"text": "x".repeat(100)});
        let s = abbreviate(&v, 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.ends_with('…'));
        assert_eq!(duration_text(1234), "1.2s");
        assert_eq!(duration_text(123_000), "2m03s");
    }
}
