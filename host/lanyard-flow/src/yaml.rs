//! A YAML tree where every node and every mapping key knows its place.
//!
//! Built from `saphyr-parser` events rather than a ready-made document type so
//! that the flow compiler can point at the exact key or value, report every
//! duplicate key (not just the first), keep whether a scalar was quoted (`"123"`
//! stays text), and bound what a file may cost: size, depth and node count.
//! Aliases (`*name`) are refused: they make a flow harder to read and are the
//! way YAML "billion laughs" documents blow up.
//!
//! This module knows YAML, not flows.

use crate::diag::{Diagnostic, Pos, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};

/// Largest flow file accepted.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Deepest nesting of mappings and sequences.
pub const MAX_DEPTH: usize = 64;
/// Most nodes in one file.
pub const MAX_NODES: usize = 200_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Text; `quoted` for any non-plain style (quotes and block scalars).
    Str {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub text: String,
    pub span: Span,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// What the node is, for messages: `a mapping`, `a list`, `text`, ...
    pub fn describe(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "nothing",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) | NodeKind::Float(_) => "a number",
            NodeKind::Str { .. } => "text",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// The node as JSON (used for literal values in flows).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            NodeKind::Str { text, .. } => Value::String(text.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.text.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

fn pos(m: &saphyr_parser::Marker) -> Pos {
    Pos {
        line: m.line() as u32,
        col: m.col() as u32 + 1,
    }
}

fn span(s: &saphyr_parser::Span) -> Span {
    Span {
        start: pos(&s.start),
        end: pos(&s.end),
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> NodeKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = text.parse::<i64>()
    {
        return NodeKind::Int(i);
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return NodeKind::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return NodeKind::Int(i);
    }
    let looks_float = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_float && let Ok(f) = text.parse::<f64>() {
        return NodeKind::Float(f);
    }
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return NodeKind::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return NodeKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeKind::Float(f64::NAN),
        _ => {}
    }
    NodeKind::Str {
        text: text.to_string(),
        quoted: false,
    }
}

enum Frame {
    Seq {
        span: Span,
        items: Vec<Node>,
    },
    Map {
        span: Span,
        entries: Vec<(Key, Node)>,
        pending_key: Option<Key>,
        /// The key node was not a scalar: its value is skipped.
        skip_value: bool,
    },
}

/// Parse one YAML document. Returns the root node (if the text parsed far
/// enough to have one) and every problem found; a syntax error stops the
/// parse, structural problems (duplicate keys, aliases) do not.
pub fn parse(file: &str, text: &str) -> (Option<Node>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if text.len() > MAX_FILE_BYTES {
        diags.push(Diagnostic::error(
            "too-large",
            file,
            Span::default(),
            format!(
                "flow file is {} bytes; the limit is {MAX_FILE_BYTES}",
                text.len()
            ),
        ));
        return (None, diags);
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    let mut nodes = 0usize;
    // Inside a key that is itself a collection we drop what we build.
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, sp) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                let m = e.marker();
                diags.push(Diagnostic::error(
                    "yaml",
                    file,
                    Span::point(pos(m)),
                    format!("invalid YAML: {}", e.info()),
                ));
                return (None, diags);
            }
        };
        let sp = span(&sp);
        let node = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    diags.push(Diagnostic::error(
                        "yaml",
                        file,
                        sp,
                        "a flow file holds one YAML document; found a second one here",
                    ));
                    return (root, diags);
                }
                continue;
            }
            Event::Alias(_) => {
                diags.push(
                    Diagnostic::error("yaml", file, sp, "YAML aliases (`*name`) are not supported in flows")
                        .with_help("write the value out, or move shared steps into a helper flow and `call` it"),
                );
                Node {
                    span: sp,
                    kind: NodeKind::Null,
                }
            }
            Event::Scalar(value, style, _anchor, _tag) => {
                let kind = match style {
                    ScalarStyle::Plain => resolve_plain(&value),
                    _ => NodeKind::Str {
                        text: value.into_owned(),
                        quoted: true,
                    },
                };
                Node { span: sp, kind }
            }
            Event::SequenceStart(_, _) | Event::MappingStart(_, _) => {
                if stack.len() >= MAX_DEPTH {
                    diags.push(Diagnostic::error(
                        "yaml",
                        file,
                        sp,
                        format!("nested deeper than {MAX_DEPTH} levels"),
                    ));
                    return (None, diags);
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        span: sp,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        span: sp,
                        entries: Vec::new(),
                        pending_key: None,
                        skip_value: false,
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { span, items }) => Node {
                    span,
                    kind: NodeKind::Seq(items),
                },
                Some(Frame::Map { span, entries, .. }) => Node {
                    span,
                    kind: NodeKind::Map(entries),
                },
                None => continue,
            },
        };
        nodes += 1;
        if nodes > MAX_NODES {
            diags.push(Diagnostic::error(
                "too-large",
                file,
                node.span,
                format!("flow file has more than {MAX_NODES} YAML nodes"),
            ));
            return (None, diags);
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                skip_value,
                ..
            }) => {
                if *skip_value {
                    *skip_value = false;
                } else if let Some(key) = pending_key.take() {
                    entries.push((key, node));
                } else {
                    let text = match &node.kind {
                        NodeKind::Str { text, .. } => Some(text.clone()),
                        NodeKind::Bool(b) => Some(b.to_string()),
                        NodeKind::Int(i) => Some(i.to_string()),
                        NodeKind::Float(f) => Some(f.to_string()),
                        NodeKind::Null | NodeKind::Seq(_) | NodeKind::Map(_) => None,
                    };
                    match text {
                        Some(text) => {
                            if let Some((first, _)) = entries.iter().find(|(k, _)| k.text == text) {
                                diags.push(Diagnostic::error(
                                    "duplicate-key",
                                    file,
                                    node.span,
                                    format!(
                                        "duplicate key `{text}` (first at line {}, column {})",
                                        first.span.start.line, first.span.start.col
                                    ),
                                ));
                                // Keep the first; drop this entry's value.
                                *skip_value = true;
                            } else {
                                *pending_key = Some(Key {
                                    text,
                                    span: node.span,
                                });
                            }
                        }
                        None => {
                            let mut d = Diagnostic::error(
                                "yaml",
                                file,
                                node.span,
                                format!("a mapping key must be text, not {}", node.describe()),
                            );
                            if matches!(node.kind, NodeKind::Map(_)) {
                                // `x: {{ y }}` parses as a mapping inside a mapping.
                                d = d.with_help(
                                    "a value that starts with `{{` must be quoted: \"{{ expr }}\"",
                                );
                            }
                            diags.push(d);
                            *skip_value = true;
                        }
                    }
                }
            }
        }
    }
    if root.is_none() && diags.is_empty() {
        diags.push(Diagnostic::error(
            "yaml",
            file,
            Span::default(),
            "the file is empty",
        ));
    }
    (root, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }

    #[test]
    fn keys_and_values_carry_their_places() {
        let (root, diags) = parse(
            "f",
            "name: a\nsteps:\n  - card: \"x.y\"\n    with: { n: 3 }\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let root = root.unwrap();
        let map = root.as_map().unwrap();
        assert_eq!(map[0].0.text, "name");
        assert_eq!(map[0].0.span.start, at(1, 1));
        assert_eq!(map[0].1.span.start, at(1, 7));
        let NodeKind::Seq(steps) = &map[1].1.kind else {
            panic!()
        };
        let step = steps[0].as_map().unwrap();
        assert_eq!(step[0].0.span.start, at(3, 5));
        assert_eq!(step[0].1.span.start, at(3, 11));
        assert_eq!(
            step[0].1.kind,
            NodeKind::Str {
                text: "x.y".into(),
                quoted: true
            }
        );
        let with = step[1].1.as_map().unwrap();
        assert_eq!(with[0].1.kind, NodeKind::Int(3));
        assert_eq!(with[0].1.span.start, at(4, 16));
    }

    #[test]
    fn every_duplicate_key_is_reported_and_the_first_kept() {
        let (root, diags) = parse("f", "a: 1\nb: 2\na: 3\nb: 4\n");
        assert_eq!(diags.len(), 2);
        assert!(
            diags[0]
                .message
                .contains("duplicate key `a` (first at line 1, column 1)")
        );
        assert_eq!(diags[1].span.start, at(4, 1));
        let root = root.unwrap();
        let map = root.as_map().unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map[0].1.kind, NodeKind::Int(1));
    }

    #[test]
    fn aliases_are_refused() {
        let (_, diags) = parse("f", "a: &x [1, 2]\nb: *x\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].span.start, at(2, 4));
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let (_, diags) = parse("f", "a: [1, 2\nb: 3\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "yaml");
        assert!(diags[0].span.start.line >= 1);
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_1_2() {
        let (root, _) = parse("f", "[~, true, no, 12, -3, 1.5, '7', 0x1f, abc]");
        let NodeKind::Seq(items) = root.unwrap().kind else {
            panic!()
        };
        let kinds: Vec<_> = items.into_iter().map(|n| n.kind).collect();
        assert_eq!(kinds[0], NodeKind::Null);
        assert_eq!(kinds[1], NodeKind::Bool(true));
        assert_eq!(
            kinds[2],
            NodeKind::Str {
                text: "no".into(),
                quoted: false
            }
        );
        assert_eq!(kinds[3], NodeKind::Int(12));
        assert_eq!(kinds[4], NodeKind::Int(-3));
        assert_eq!(kinds[5], NodeKind::Float(1.5));
        assert_eq!(
            kinds[6],
            NodeKind::Str {
                text: "7".into(),
                quoted: true
            }
        );
        assert_eq!(kinds[7], NodeKind::Int(31));
    }

    #[test]
    fn depth_is_bounded() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let (root, diags) = parse("f", &text);
        assert!(root.is_none());
        assert!(diags[0].message.contains("nested deeper"));
    }

    #[test]
    fn empty_file_is_an_error() {
        let (root, diags) = parse("f", "");
        assert!(root.is_none());
        assert_eq!(diags[0].message, "the file is empty");
    }
}
