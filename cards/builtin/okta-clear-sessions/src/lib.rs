//! `okta.clear-sessions`: end every Okta session of a user and, with
//! `oauth_tokens`, revoke the OAuth tokens Okta issued to them, so that a
//! leaver's open apps lose access too.

use builtin_kit::okta::user_id;
use builtin_kit::{Outcome, UserRef};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whose sessions.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The user: an Okta user id, a login, or a user object.
    user: UserRef,
    /// Also revoke the access and refresh tokens Okta issued to the user
    /// (default false, as in Okta's API). Offboarding wants true.
    #[serde(default)]
    oauth_tokens: bool,
}

/// What was done.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// Always `changed`: Okta does not say whether there were sessions to end.
    outcome: Outcome,
    /// The user's Okta id.
    user_id: String,
    /// Whether OAuth tokens were revoked too.
    oauth_tokens: bool,
}

struct ClearSessions;

impl Card for ClearSessions {
    const NAME: &'static str = "okta.clear-sessions";
    const DESCRIPTION: &'static str = "Ends every Okta session of a user; with `oauth_tokens: true` also revokes the OAuth tokens Okta issued to them. Output: `outcome`, `user_id`, `oauth_tokens`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.sessions.manage")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let user_id = user_id(&input.user)?;
        okta::clear_sessions(&user_id, input.oauth_tokens)?;
        Ok(Out {
            outcome: Outcome::Changed,
            user_id,
            oauth_tokens: input.oauth_tokens,
        })
    }
}

lanyard_sdk::export_card!(ClearSessions);
