//! Diagnostics: what validation reports, with the exact place in the file.
//!
//! Every problem becomes one [`Diagnostic`]; the compiler collects all of them
//! instead of stopping at the first. Two renderings: [`Diagnostic::render`] for
//! people (`file:line:col: error: ...`, the step path, the source line with a
//! caret) and the serde form for the admin API. This module knows nothing about
//! flows beyond the step path text it is handed.

use serde::Serialize;
use std::fmt::Write as _;

/// A place in a file: 1-based line, 1-based column counted in characters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A range in a file; `end` is exclusive and on the same line for most nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn point(pos: Pos) -> Span {
        Span {
            start: pos,
            end: pos,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in one flow file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case name for the kind of problem (`unknown-card`,
    /// `not-yet-run`, ...), for tools and tests.
    pub code: &'static str,
    pub file: String,
    /// Where it is; a zero position (0:0) when the problem concerns the whole
    /// file or a set of files.
    pub span: Span,
    pub message: String,
    /// The step it concerns, as the author reads it:
    /// `steps[2] (id: sessions) > on_error[0]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// A hint on how to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, file: &str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            file: file.to_string(),
            span,
            message: message.into(),
            step: None,
            help: None,
        }
    }

    pub fn warning(code: &'static str, file: &str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(code, file, span, message)
        }
    }

    pub fn with_step(mut self, step: Option<String>) -> Self {
        self.step = step;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col: error: message`, the step path, and (given the file's
    /// text) the source line with the span underlined.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        let Pos { line, col } = self.span.start;
        if line > 0 {
            let _ = write!(out, "{}:{line}:{col}: ", self.file);
        } else {
            let _ = write!(out, "{}: ", self.file);
        }
        let _ = writeln!(out, "{}: {}", self.severity.as_str(), self.message);
        if let Some(step) = &self.step {
            let _ = writeln!(out, "  at {step}");
        }
        if let (Some(src), true) = (source, line > 0)
            && let Some(text) = src.lines().nth(line as usize - 1)
        {
            let text = text.trim_end_matches('\r');
            let number = line.to_string();
            let pad = " ".repeat(number.len());
            let width = if self.span.end.line == line && self.span.end.col > col {
                (self.span.end.col - col) as usize
            } else {
                1
            };
            // Tabs would shift the caret; show them as one space each.
            let shown: String = text
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {shown}");
            let _ = writeln!(
                out,
                "{pad} | {}{}",
                " ".repeat(col.saturating_sub(1) as usize),
                "^".repeat(width.max(1))
            );
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  help: {help}");
        }
        out
    }
}

/// Render every diagnostic, each followed by a blank line, then a summary line
/// (`2 errors, 1 warning`). `source` gives a file's text by name.
pub fn render_all<'a>(diags: &[Diagnostic], source: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.render(source(&d.file)));
        out.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    out
}

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// ` (did you mean `x`?)`, or nothing.
pub(crate) fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(name, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_place_step_and_caret() {
        let d = Diagnostic::error(
            "unknown-card",
            "flows/a.yaml",
            Span {
                start: Pos { line: 2, col: 11 },
                end: Pos { line: 2, col: 23 },
            },
            "unknown card `okta.get-usr`",
        )
        .with_step(Some("steps[0] (id: user)".into()));
        let src = "steps:\n  - card: okta.get-usr\n";
        let text = d.render(Some(src));
        assert_eq!(
            text,
            "flows/a.yaml:2:11: error: unknown card `okta.get-usr`\n  at steps[0] (id: user)\n  |\n2 |   - card: okta.get-usr\n  |           ^^^^^^^^^^^^\n"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("okta.get-usr", ["okta.get-user", "slack.post"]),
            Some("okta.get-user")
        );
        assert_eq!(did_you_mean("zzz", ["okta.get-user", "slack.post"]), None);
    }
}
