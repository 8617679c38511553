//! How a flow names a user, a group, an app or a group rule in a card's input, and values that may be
//! one string or a list of them.
//!
//! Each type reads a JSON value a flow author would naturally pass (a login
//! typed into the flow, `{{ event.target[0].id }}`, or the whole `{{ user }}`
//! object from `okta.get-user`) and refuses anything else with a message that
//! says what is accepted. None of them calls Okta; resolving a reference is
//! [`crate::okta`]'s job.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::Value;
use std::borrow::Cow;

/// The longest id, login or group name accepted.
pub const MAX_REF: usize = 512;

/// A user: an Okta user id (`00u1abcd...`), a login (`ada@example.com`), or a
/// user object such as the output of `okta.get-user`, of which only `id` is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// Looks like an Okta user id: used as is.
    Id(String),
    /// Anything else: a login (or login shortname), looked up first.
    Login(String),
}

/// A group: an Okta group id (`00g1abcd...`), the group's exact name
/// (`Engineering`), or a group object such as an item of
/// `okta.list-user-groups`, of which only `id` is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// Looks like an Okta group id: used as is.
    Id(String),
    /// Anything else: an exact group name, looked up first.
    Name(String),
    /// A group object: its `id`, and the `name` and `groupType` it carried, if any.
    Object {
        id: String,
        name: Option<String>,
        group_type: Option<String>,
    },
}

/// Whether `s` has the shape of an Okta object id with this 3-character prefix
/// (`00u` users, `00g` groups): the prefix, then only letters and digits.
/// Okta's ids are 20 characters; the sandbox org and tests may use shorter ones.
pub fn looks_like_id(s: &str, prefix: &str) -> bool {
    s.len() > prefix.len()
        && s.starts_with(prefix)
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The id or text a reference holds, checked for emptiness and length.
fn ref_text(v: Value, what: &str, accepted: &str) -> Result<(String, bool), String> {
    let (text, from_object) = match v {
        Value::String(s) => (s, false),
        Value::Object(mut map) => match map.remove("id") {
            Some(Value::String(id)) => (id, true),
            Some(other) => {
                return Err(format!("{what} object has an `id` that is {}, not a string", kind_of(&other)));
            }
            None => return Err(format!("{what} object has no `id`; pass {accepted}")),
        },
        other => return Err(format!("{what} must be {accepted}, not {}", kind_of(&other))),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("{what} must not be empty; pass {accepted}"));
    }
    if trimmed.len() > MAX_REF {
        return Err(format!("{what} is {} bytes long, over the limit of {MAX_REF}", trimmed.len()));
    }
    Ok((trimmed.to_string(), from_object))
}

/// A reference's text, and whether it is an id: taken from an object's `id`,
/// or shaped like an Okta id with this prefix.
fn id_or_text(v: Value, what: &str, accepted: &str, prefix: &str) -> Result<(String, bool), String> {
    let (text, from_object) = ref_text(v, what, accepted)?;
    let is_id = from_object || looks_like_id(&text, prefix);
    Ok((text, is_id))
}

impl<'de> Deserialize<'de> for UserRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let (text, is_id) = id_or_text(v, "`user`", "an Okta user id, a login, or a user object with an `id`", "00u")
            .map_err(D::Error::custom)?;
        Ok(if is_id { UserRef::Id(text) } else { UserRef::Login(text) })
    }
}

impl UserRef {

    /// What the flow wrote, for messages.
    pub fn as_str(&self) -> &str {
        match self {
            UserRef::Id(s) | UserRef::Login(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for GroupRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let text_field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let (name, group_type) = (text_field("name"), text_field("groupType"));
        let (text, from_object) = ref_text(v, "a group", "an Okta group id, an exact group name, or a group object with an `id`")
            .map_err(D::Error::custom)?;
        Ok(if from_object {
            GroupRef::Object { id: text, name, group_type }
        } else if looks_like_id(&text, "00g") {
            GroupRef::Id(text)
        } else {
            GroupRef::Name(text)
        })
    }
}

impl GroupRef {
    /// What the flow wrote (the id of an object), for messages.
    pub fn as_str(&self) -> &str {
        match self {
            GroupRef::Id(s) | GroupRef::Name(s) | GroupRef::Object { id: s, .. } => s,
        }
    }
}

/// An app: an Okta app id (`0oa1abcd...`), its label (`GitHub`), or an app
/// object such as the `app` of `okta.find-app`, of which only `id` is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRef {
    /// Looks like an Okta app id, or came from an object: used as is.
    Id(String),
    /// Anything else: the app's label (or catalog name), looked up first.
    Label(String),
}

impl<'de> Deserialize<'de> for AppRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let (text, is_id) = id_or_text(v, "`app`", "an Okta app id, the app's label, or an app object with an `id`", "0oa")
            .map_err(D::Error::custom)?;
        Ok(if is_id { AppRef::Id(text) } else { AppRef::Label(text) })
    }
}

impl AppRef {
    /// What the flow wrote, for messages.
    pub fn as_str(&self) -> &str {
        match self {
            AppRef::Id(s) | AppRef::Label(s) => s,
        }
    }
}

/// A group rule: an Okta group rule id (`0pr1abcd...`), the rule's exact name,
/// or a rule object such as the `rule` of `okta.create-group-rule`, of which
/// only `id` is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleRef {
    /// Looks like an Okta group rule id, or came from an object: used as is.
    Id(String),
    /// Anything else: the rule's exact name, looked up first.
    Name(String),
}

impl<'de> Deserialize<'de> for RuleRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let (text, is_id) = id_or_text(v, "`rule`", "an Okta group rule id, the rule's exact name, or a rule object with an `id`", "0pr")
            .map_err(D::Error::custom)?;
        Ok(if is_id { RuleRef::Id(text) } else { RuleRef::Name(text) })
    }
}

impl RuleRef {
    /// What the flow wrote, for messages.
    pub fn as_str(&self) -> &str {
        match self {
            RuleRef::Id(s) | RuleRef::Name(s) => s,
        }
    }
}

fn ref_schema(description: &str, id_example: &str, text_example: &str) -> Schema {
    json_schema!({
        "description": description,
        "anyOf": [
            { "type": "string", "minLength": 1, "maxLength": MAX_REF, "examples": [id_example, text_example] },
            {
                "type": "object",
                "required": ["id"],
                "properties": { "id": { "type": "string", "minLength": 1, "maxLength": MAX_REF } }
            }
        ]
    })
}

/// `JsonSchema` for a reference type: inline, a string or an object with an `id`.
macro_rules! ref_json_schema {
    ($ty:ident, $description:expr, $id_example:expr, $text_example:expr) => {
        impl JsonSchema for $ty {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                ref_schema($description, $id_example, $text_example)
            }
        }
    };
}

ref_json_schema!(
    UserRef,
    "An Okta user id, a login, or a user object (such as the output of okta.get-user) of which `id` is read.",
    "00u1a2b3c4d5e6f7g8h9",
    "ada.lovelace@example.com"
);
ref_json_schema!(
    GroupRef,
    "An Okta group id, the group's exact name, or a group object (such as an item of okta.list-user-groups) of which `id` is read.",
    "00g1a2b3c4d5e6f7g8h9",
    "Engineering"
);
ref_json_schema!(
    AppRef,
    "An Okta app id, the app's label as people see it (`GitHub`), or an app object (such as the `app` of okta.find-app) of which `id` is read.",
    "0oa1a2b3c4d5e6f7g8h9",
    "GitHub"
);
ref_json_schema!(
    RuleRef,
    "An Okta group rule id, the rule's exact name, or a rule object (such as the `rule` of okta.create-group-rule) of which `id` is read.",
    "0pr1a2b3c4d5e6f7g8h9",
    "Engineering department"
);

/// One string or a list of strings (mail recipients): `"a@example.com"` and
/// `["a@example.com", "b@example.com"]` both work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(OneOrMany(vec![s])),
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(D::Error::custom(format!(
                        "expected a list of strings, found {} in it",
                        kind_of(&other)
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(OneOrMany),
            other => Err(D::Error::custom(format!(
                "expected a string or a list of strings, not {}",
                kind_of(&other)
            ))),
        }
    }
}

impl JsonSchema for OneOrMany {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "OneOrMany".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(v: Value) -> Result<UserRef, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    fn group(v: Value) -> Result<GroupRef, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn users_are_ids_logins_or_objects() {
        assert_eq!(user(json!("00u1a2b3c4d5e6f7g8h9")), Ok(UserRef::Id("00u1a2b3c4d5e6f7g8h9".into())));
        assert_eq!(user(json!(" ada@example.com ")), Ok(UserRef::Login("ada@example.com".into())));
        assert_eq!(user(json!("ada")), Ok(UserRef::Login("ada".into())));
        assert_eq!(user(json!({"id": "xyz", "profile": {}})), Ok(UserRef::Id("xyz".into())));
        assert!(user(json!("")).unwrap_err().contains("must not be empty"));
        assert!(user(json!(42)).unwrap_err().contains("not a number"));
        assert!(user(json!({"login": "a"})).unwrap_err().contains("has no `id`"));
        assert!(user(json!("x".repeat(MAX_REF + 1))).unwrap_err().contains("over the limit"));
    }

    #[test]
    fn groups_are_ids_names_or_objects() {
        assert_eq!(group(json!("00g1abc")), Ok(GroupRef::Id("00g1abc".into())));
        assert_eq!(group(json!("Engineering")), Ok(GroupRef::Name("Engineering".into())));
        assert_eq!(group(json!("00g team")), Ok(GroupRef::Name("00g team".into())));
        assert_eq!(
            group(json!({"id": "G1", "name": "x", "groupType": "OKTA_GROUP"})),
            Ok(GroupRef::Object { id: "G1".into(), name: Some("x".into()), group_type: Some("OKTA_GROUP".into()) })
        );
        assert_eq!(group(json!({"id": "G1"})), Ok(GroupRef::Object { id: "G1".into(), name: None, group_type: None }));
        assert!(group(json!(null)).unwrap_err().contains("not null"));
    }

    #[test]
    fn apps_and_rules_are_ids_names_or_objects() {
        let app = |v: Value| serde_json::from_value::<AppRef>(v).map_err(|e| e.to_string());
        assert_eq!(app(json!("0oa1abc")), Ok(AppRef::Id("0oa1abc".into())));
        assert_eq!(app(json!(" GitHub ")), Ok(AppRef::Label("GitHub".into())));
        assert_eq!(app(json!({"id": "x1", "label": "GitHub"})), Ok(AppRef::Id("x1".into())));
        assert!(app(json!(7)).unwrap_err().contains("`app` must be an Okta app id"));
        let rule = |v: Value| serde_json::from_value::<RuleRef>(v).map_err(|e| e.to_string());
        assert_eq!(rule(json!("0pr1abc")), Ok(RuleRef::Id("0pr1abc".into())));
        assert_eq!(rule(json!("Sales department")), Ok(RuleRef::Name("Sales department".into())));
        assert!(rule(json!({"name": "x"})).unwrap_err().contains("has no `id`"));
    }

    #[test]
    fn one_or_many_strings() {
        let one: OneOrMany = serde_json::from_value(json!("a@x")).unwrap();
        assert_eq!(one.0, vec!["a@x"]);
        let many: OneOrMany = serde_json::from_value(json!(["a@x", "b@x"])).unwrap();
        assert_eq!(many.0.len(), 2);
        assert!(serde_json::from_value::<OneOrMany>(json!([1])).is_err());
    }
}
