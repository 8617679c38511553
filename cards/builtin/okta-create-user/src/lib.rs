//! `okta.create-user`: create an Okta user, optionally activated and in some
//! groups (named by id or exact name).

use builtin_kit::okta::{check_writable, group};
use builtin_kit::{GroupRef, Outcome};
use lanyard_sdk::okta::User;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const MAX_GROUPS: usize = 100;

fn yes() -> bool {
    true
}

/// The new user.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The profile: `login`, `email`, `firstName` and `lastName` are required;
    /// any other attribute (`department`, `title`, `managerId`, custom ones) may follow.
    profile: Map<String, Value>,
    /// Activate the user at once (Okta emails an activation link); false
    /// leaves it STAGED. Default true.
    #[serde(default = "yes")]
    activate: bool,
    /// Groups to put the user in, by id or exact name.
    #[serde(default)]
    groups: Vec<GroupRef>,
}

/// The user Okta created.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// Always `changed`.
    outcome: Outcome,
    /// The new user, as okta.get-user returns it.
    user: User,
}

struct CreateUser;

impl Card for CreateUser {
    const NAME: &'static str = "okta.create-user";
    const DESCRIPTION: &'static str = "Creates an Okta user from a profile (login, email, firstName, lastName, ...), activated unless `activate` is false, in the `groups` named. A login that exists is a `conflict`. Output: `outcome` and `user`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // groups.read only to look group names up.
        vec![Grant::okta("okta.users.manage"), Grant::okta("okta.groups.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        for key in ["login", "email", "firstName", "lastName"] {
            match input.profile.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => {}
                Some(_) => return Err(CardError::invalid_input(format!("`profile.{key}` must be a non-empty string"))),
                None => {
                    return Err(CardError::invalid_input(format!(
                        "`profile.{key}` is missing (login, email, firstName and lastName are required)"
                    )));
                }
            }
        }
        if input.groups.len() > MAX_GROUPS {
            return Err(CardError::invalid_input(format!(
                "`groups` lists {} groups, over the limit of {MAX_GROUPS}",
                input.groups.len()
            )));
        }
        let mut group_ids = Vec::with_capacity(input.groups.len());
        for g in &input.groups {
            let g = group(g)?;
            check_writable(&g)?;
            group_ids.push(g.id);
        }
        let user = okta::create_user(&input.profile, input.activate, &group_ids)?;
        lanyard_sdk::info!("created {} ({})", user.login(), user.id);
        Ok(Out {
            outcome: Outcome::Changed,
            user,
        })
    }
}

lanyard_sdk::export_card!(CreateUser);
