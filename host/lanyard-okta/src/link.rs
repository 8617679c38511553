//! RFC 8288 `Link` headers, as Okta uses them for cursor pagination:
//! `<https://org/api/v1/users?after=00u..&limit=200>; rel="next"`.

use http::HeaderMap;

/// The target of the link with this `rel`, across every `Link` header.
pub(crate) fn find_rel(headers: &HeaderMap, rel: &str) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(split_links)
        .find(|(_, rels)| {
            rels.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case(rel))
        })
        .map(|(target, _)| target.to_string())
}

/// `(target, rel)` pairs of one header value. Commas may appear inside `<...>`.
fn split_links(value: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let target = &rest[start + 1..start + end];
        let after = &rest[start + end + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        let rel = params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("rel"))
            .map(|(_, v)| v.trim().trim_end_matches(',').trim().trim_matches('"'))
            .unwrap_or("");
        out.push((target, rel));
        rest = &after[params_end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_several_links() {
        let mut h = HeaderMap::new();
        h.append(
            http::header::LINK,
            r#"<https://a.okta.com/api/v1/users?limit=2>; rel="self""#
                .parse()
                .unwrap(),
        );
        h.append(
            http::header::LINK,
            r#"<https://a.okta.com/api/v1/users?after=00u2&limit=2&search=a,b>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            find_rel(&h, "next").as_deref(),
            Some("https://a.okta.com/api/v1/users?after=00u2&limit=2&search=a,b")
        );
        let mut one = HeaderMap::new();
        one.append(
            http::header::LINK,
            r#"<https://x/a?b=1>; rel="self", <https://x/a?after=9>; rel=next"#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            find_rel(&one, "next").as_deref(),
            Some("https://x/a?after=9")
        );
        assert_eq!(find_rel(&HeaderMap::new(), "next"), None);
    }
}
