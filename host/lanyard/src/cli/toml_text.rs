//! TOML the CLI writes into files it generates (the demo's config, a new
//! card's manifests). It only quotes values; it never reads TOML.

/// `s` as a TOML basic string: `"`, `\` and control characters escaped as
/// the TOML spec says (`\b \t \n \f \r`, the rest as `\uXXXX`), so a path or
/// name with any of them reads back as itself.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::toml_string;

    #[test]
    fn toml_strings_escape() {
        assert_eq!(toml_string(r#"C:\flows "x""#), r#""C:\\flows \"x\"""#);
        assert_eq!(toml_string("a\tb\nc\u{1}\u{7f}"), r#""a\tb\nc\u0001\u007F""#);
    }

    #[test]
    fn toml_strings_read_back_as_themselves() {
        for s in [r#"C:\flows "x""#, "line\nbreak\r\n", "bell\u{7}, nul\u{0}, del\u{7f}, c1\u{85}", "plain ünïcode"] {
            let doc = format!("v = {}", toml_string(s));
            let v: toml::Table = toml::from_str(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(v["v"].as_str(), Some(s), "{doc}");
        }
    }
}
