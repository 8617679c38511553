//! `okta.find-app`: the app with this label, if there is one. "No such app"
//! is an answer (`found: false`), so a flow branches on it with an `if`.

use builtin_kit::check_text;
use lanyard_sdk::okta::App;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which app.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The app's label as people see it on their dashboard, for example
    /// `GitHub`; its name in Okta's catalog (`github`) works too.
    label: String,
}

/// The app, if there is one.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// False when no app has this label.
    found: bool,
    /// The app (`id`, `label`, `name`, `status`, `signOnMode`), or null.
    app: Option<App>,
}

struct FindApp;

impl Card for FindApp {
    const NAME: &'static str = "okta.find-app";
    const DESCRIPTION: &'static str = "Finds the Okta app with this label (or catalog name). Output: `found` and `app` (`id`, `label`, `name`, `status`, `signOnMode`) or null.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.apps.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        check_text("label", &input.label, builtin_kit::refs::MAX_REF)?;
        let app = okta::find_app(input.label.trim())?;
        Ok(Out {
            found: app.is_some(),
            app,
        })
    }
}

lanyard_sdk::export_card!(FindApp);
