//! `okta.reset-factors`: unenrolls a user's MFA factors, all of them or one
//! (by factor id or type), so they enroll again at their next sign-in: the
//! help desk's answer to a lost phone.

use builtin_kit::okta::user_id;
use builtin_kit::{Outcome, UserRef, check_text};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whose factors, and which.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The user: an Okta user id, a login, or a user object.
    user: UserRef,
    /// Only this factor: its id (from okta.list-factors), or its type, for
    /// example `sms`, `push`, `call`, `email`, `token:software:totp`,
    /// `webauthn`. Leave it out to reset every factor.
    #[serde(default)]
    factor: Option<String>,
}

/// What was reset.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if the user had no such factor (or none at all).
    outcome: Outcome,
    /// The user's Okta id.
    user_id: String,
    /// How many factors were reset.
    reset: usize,
    /// The types of the factors reset, for example `["push", "sms"]`.
    factor_types: Vec<String>,
}

struct ResetFactors;

impl Card for ResetFactors {
    const NAME: &'static str = "okta.reset-factors";
    const DESCRIPTION: &'static str = "Resets an Okta user's MFA factors (every one, or only the `factor` named by id or type such as `sms` or `push`): the user sets them up again at the next sign-in. Output: `outcome` (`unchanged` if there was none to reset), `user_id`, `reset` (a count), `factor_types`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // users.read to look a login up, factors.read to see what there is.
        vec![
            Grant::okta("okta.users.read"),
            Grant::okta("okta.factors.read"),
            Grant::okta("okta.factors.manage"),
        ]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let which = match &input.factor {
            Some(f) => {
                check_text("factor", f, builtin_kit::refs::MAX_REF)?;
                Some(f.trim())
            }
            None => None,
        };
        let user_id = user_id(&input.user)?;
        let factors = okta::list_factors(&user_id)?;
        let mut factor_types = Vec::new();
        let mut changed = false;
        match which {
            // Nothing to reset: no call (the host would compare and agree).
            None if factors.is_empty() => {}
            None => {
                if okta::reset_factors(&user_id)? == WriteOutcome::Changed {
                    changed = true;
                    factor_types = factors.into_iter().map(|f| f.factor_type).collect();
                }
            }
            Some(which) => {
                let chosen = factors
                    .into_iter()
                    .filter(|f| f.id == which || f.factor_type.eq_ignore_ascii_case(which));
                for f in chosen {
                    if okta::reset_factor(&user_id, &f.id)? == WriteOutcome::Changed {
                        changed = true;
                        factor_types.push(f.factor_type);
                    }
                }
            }
        }
        Ok(Out {
            outcome: if changed { Outcome::Changed } else { Outcome::Unchanged },
            user_id,
            reset: factor_types.len(),
            factor_types,
        })
    }
}

lanyard_sdk::export_card!(ResetFactors);
