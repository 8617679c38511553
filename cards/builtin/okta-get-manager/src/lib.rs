//! `okta.get-manager`: a user's manager, from `profile.managerId`. "No
//! manager" is an answer (`found: false`), not an error, so a flow branches on
//! it with an `if` instead of an error path.

use builtin_kit::UserInput;
use lanyard_sdk::okta::User;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

/// The manager, if there is one.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// False when the user has no `managerId`, or it names no Okta user.
    found: bool,
    /// The manager as okta.get-user returns it (`{{ mgr.manager.profile.email }}`), or null.
    manager: Option<User>,
}

struct GetManager;

impl Card for GetManager {
    const NAME: &'static str = "okta.get-manager";
    const DESCRIPTION: &'static str = "Looks up an Okta user's manager through `profile.managerId`. Output: `found` (false when there is none) and `manager`, the manager's user object or null.";
    type Input = UserInput;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.users.read")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<Out, CardError> {
        // The host reads the user by id or login, then its manager.
        let manager = okta::get_manager(input.user.as_str())?;
        Ok(Out {
            found: manager.is_some(),
            manager,
        })
    }
}

lanyard_sdk::export_card!(GetManager);
