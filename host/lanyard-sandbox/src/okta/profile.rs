//! The sandbox org's user profile schema and how Okta checks a profile against
//! it: types, lengths, email formats, required attributes, and no attribute the
//! schema does not declare.
//!
//! The attributes are Okta's base user profile as its spec declares it
//! (`components.schemas.UserProfile`: types, `minLength`, `maxLength`, `format:
//! email`, `nullable`), all strings, and the one custom attribute the sandbox
//! org adds, as an admin would in Okta's Profile Editor ([`CUSTOM`]). Okta's default
//! user type requires `login`, `email`, `firstName` and `lastName`, and wants a
//! `login` in the form of an email address. No I/O, no org state here.

use serde_json::{Map, Value};

use super::state::ApiError;

/// One attribute of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: &'static str,
    pub min_len: usize,
    pub max_len: Option<usize>,
    pub email: bool,
    pub required: bool,
}

const fn a(name: &'static str) -> Attr {
    Attr {
        name,
        min_len: 0,
        max_len: None,
        email: false,
        required: false,
    }
}

const fn len(mut at: Attr, min: usize, max: usize) -> Attr {
    at.min_len = min;
    at.max_len = Some(max);
    at
}

const fn required(mut at: Attr) -> Attr {
    at.required = true;
    at
}

const fn email(mut at: Attr) -> Attr {
    at.email = true;
    at
}

/// Okta's base user profile (its spec's `UserProfile`), alphabetically.
#[rustfmt::skip]
pub const ATTRIBUTES: &[Attr] = &[
    len(a("city"), 0, 128),
    a("costCenter"),
    len(a("countryCode"), 0, 2),
    a("department"),
    a("displayName"),
    a("division"),
    required(email(len(a("email"), 5, 100))),
    a("employeeNumber"),
    required(len(a("firstName"), 1, 50)),
    a("honorificPrefix"),
    a("honorificSuffix"),
    required(len(a("lastName"), 1, 50)),
    a("locale"),
    required(len(a("login"), 5, 100)),
    a("manager"),
    a("managerId"),
    a("middleName"),
    len(a("mobilePhone"), 0, 100),
    a("nickName"),
    a("organization"),
    len(a("postalAddress"), 0, 4096),
    a("preferredLanguage"),
    len(a("primaryPhone"), 0, 100),
    a("profileUrl"),
    email(len(a("secondEmail"), 0, 100)),
    len(a("state"), 0, 128),
    len(a("streetAddress"), 0, 1024),
    a("timezone"),
    a("title"),
    a("userType"),
    len(a("zipCode"), 0, 50),
];

/// The sandbox org's custom attributes: `slackUserId`, a person's Slack
/// member id (`U…`), which the seed fills for the managers who read Slack
/// rather than email (the lockout flow messages them there).
pub const CUSTOM: &[Attr] = &[len(a("slackUserId"), 0, 32)];

pub fn attribute(name: &str) -> Option<&'static Attr> {
    ATTRIBUTES.iter().chain(CUSTOM).find(|a| a.name == name)
}

/// A whole profile (`POST /api/v1/users`) or a partial one (`POST
/// /api/v1/users/{id}`: only the attributes given change, `null` removes one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Whole,
    Partial,
}

/// Every way `profile` breaks the schema, as Okta's validation error: 400
/// `E0000001`, one `errorCauses` entry per problem, each naming its attribute.
pub fn validate(profile: &Map<String, Value>, check: Check) -> Result<(), ApiError> {
    let mut causes: Vec<(String, String)> = Vec::new();
    for (name, value) in profile {
        let Some(attr) = attribute(name) else {
            causes.push((
                name.clone(),
                format!("{name}: Property '{name}' is not defined in the user profile schema"),
            ));
            continue;
        };
        let text = match value {
            Value::Null if attr.required => {
                causes.push((
                    name.clone(),
                    format!("{name}: The field cannot be left blank"),
                ));
                continue;
            }
            Value::Null => continue,
            Value::String(s) => s,
            other => {
                causes.push((
                    name.clone(),
                    format!(
                        "{name}: Does not match required type: expected string, got {}",
                        kind(other)
                    ),
                ));
                continue;
            }
        };
        let chars = text.chars().count();
        if attr.required && text.trim().is_empty() {
            causes.push((
                name.clone(),
                format!("{name}: The field cannot be left blank"),
            ));
            continue;
        }
        if chars < attr.min_len {
            causes.push((
                name.clone(),
                format!(
                    "{name}: The field is too short (at least {} characters)",
                    attr.min_len
                ),
            ));
        }
        if let Some(max) = attr.max_len
            && chars > max
        {
            causes.push((
                name.clone(),
                format!("{name}: The field is too long (at most {max} characters)"),
            ));
        }
        if attr.email && !text.is_empty() && !looks_like_email(text) {
            causes.push((
                name.clone(),
                format!("{name}: Does not match required pattern"),
            ));
        }
        if name == "login" && !text.is_empty() && !looks_like_email(text) {
            causes.push((
                name.clone(),
                "login: Username must be in the form of an email address".into(),
            ));
        }
    }
    if check == Check::Whole {
        for attr in ATTRIBUTES.iter().filter(|a| a.required) {
            if !profile.contains_key(attr.name) {
                causes.push((
                    attr.name.to_string(),
                    format!("{}: The field cannot be left blank", attr.name),
                ));
            }
        }
    }
    match causes.first() {
        None => Ok(()),
        Some((first, _)) => {
            let mut e = ApiError::new(400, "E0000001", &format!("Api validation failed: {first}"));
            for (_, cause) in causes {
                e = e.cause(cause);
            }
            Err(e)
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `local@domain.tld`: one `@`, no whitespace, a dot inside the domain.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && domain.split_once('.').is_some_and(|(host, rest)| {
            !host.is_empty() && !rest.is_empty() && !rest.ends_with('.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn causes(r: Result<(), ApiError>) -> Vec<String> {
        r.unwrap_err()
            .body
            .error_causes
            .into_iter()
            .map(|c| c.error_summary)
            .collect()
    }

    #[test]
    fn a_complete_profile_passes() {
        let p = profile(json!({
            "login": "ada.lovelace@acme.example", "email": "ada.lovelace@acme.example",
            "firstName": "Ada", "lastName": "Lovelace", "department": "Engineering",
            "title": "Engineer", "managerId": "00u1", "manager": "Grace Hopper",
            "employeeNumber": "E01000", "costCenter": "CC-100", "countryCode": "GB",
            "city": "London", "mobilePhone": "+14155550100", "secondEmail": null,
            "slackUserId": "U04ADA1815",
        }));
        assert!(validate(&p, Check::Whole).is_ok());
    }

    #[test]
    fn each_problem_names_its_attribute() {
        let p = profile(json!({
            "login": "ada", "email": "not-an-email", "firstName": "",
            "lastName": "x".repeat(51), "countryCode": "GBR", "department": 7,
            "favouriteColour": "green",
        }));
        let e = validate(&p, Check::Whole).unwrap_err();
        assert_eq!((e.status, e.body.error_code.as_str()), (400, "E0000001"));
        let c = causes(Err(e)).join("\n");
        for want in [
            "login: The field is too short",
            "login: Username must be in the form of an email address",
            "email: Does not match required pattern",
            "firstName: The field cannot be left blank",
            "lastName: The field is too long (at most 50 characters)",
            "countryCode: The field is too long",
            "department: Does not match required type: expected string, got number",
            "favouriteColour: Property 'favouriteColour' is not defined",
        ] {
            assert!(c.contains(want), "{want} in:\n{c}");
        }
    }

    #[test]
    fn a_partial_profile_needs_no_required_attribute_but_cannot_clear_one() {
        assert!(
            validate(
                &profile(json!({"title": "CTO", "nickName": null})),
                Check::Partial
            )
            .is_ok()
        );
        let c = causes(validate(&profile(json!({"email": null})), Check::Partial));
        assert_eq!(c, ["email: The field cannot be left blank"]);
        let c = causes(validate(&profile(json!({"title": "CTO"})), Check::Whole));
        assert_eq!(c.len(), 4, "{c:?}");
    }

    #[test]
    fn emails_look_like_emails() {
        for ok in ["a@b.co", "first.last+tag@sub.acme.example"] {
            assert!(looks_like_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.co", "a@b@c.co",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
