//! `okta.get-user`: one Okta user, as Okta returns it, so a flow reads
//! `{{ user.profile.department }}` straight from the step's output.

use builtin_kit::UserInput;
use lanyard_sdk::okta::User;
use lanyard_sdk::prelude::*;

struct GetUser;

impl Card for GetUser {
    const NAME: &'static str = "okta.get-user";
    const DESCRIPTION: &'static str = "Gets one Okta user by id or login. The output is the user as Okta returns it: `id`, `status`, `created`, `lastLogin`, ..., and `profile` with every attribute (`{{ user.profile.department }}`).";
    type Input = UserInput;
    type Output = User;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.users.read")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<User, CardError> {
        // The host looks a login up itself; an id or a login goes straight through.
        okta::get_user(input.user.as_str())
    }
}

lanyard_sdk::export_card!(GetUser);
