//! `okta.list-factors`: the MFA factors a user has, and whether any of them is
//! fully enrolled (the MFA reminder's question).

use builtin_kit::okta::user_id;
use builtin_kit::UserInput;
use lanyard_sdk::okta::Factor;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

/// The factors, in the list convention, plus `enrolled`.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// Every factor: `id`, `factorType` (`push`, `token:software:totp`, `sms`,
    /// `webauthn`, ...), `provider`, `status` (ACTIVE, PENDING_ACTIVATION, ...), `created`.
    items: Vec<Factor>,
    /// How many factors there are, in any status.
    count: usize,
    /// Whether at least one factor is ACTIVE (set up and usable); a factor
    /// still PENDING_ACTIVATION does not count.
    enrolled: bool,
}

struct ListFactors;

impl Card for ListFactors {
    const NAME: &'static str = "okta.list-factors";
    const DESCRIPTION: &'static str = "Lists the MFA factors an Okta user has. Output: `items` (factors with `factorType`, `provider`, `status`), `count`, and `enrolled`: whether any factor is ACTIVE.";
    type Input = UserInput;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.factors.read")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<Out, CardError> {
        let id = user_id(&input.user)?;
        let items = okta::list_factors(&id)?;
        Ok(Out {
            count: items.len(),
            enrolled: items.iter().any(|f| f.status == "ACTIVE"),
            items,
        })
    }
}

lanyard_sdk::export_card!(ListFactors);
