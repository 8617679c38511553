//! The Okta orgs a running daemon talks to, by name.
//!
//! One per org of the configuration (`[okta]`, named `default`, or each
//! `[okta.orgs.<name>]`; see `crate::config`): a real org reached with its
//! client, an embedded sandbox org started here (each with a seed of its
//! own, so ids, tokens and event uuids differ between them), or events only
//! (`[hooks.okta]` without `[okta]`). Each has the Okta capability its card
//! steps get, the ids of the daemon's own identity there (loop protection is
//! per org) and its Event Hook secret.
//!
//! The default org (the only one, or the one named `default`) is the one a
//! trigger or step that names none uses; its events are stored without an org
//! (as before there were several), others' with their name
//! ([`Orgs::store_org`]). The engine owns the set; hooks, the poller, the
//! dispatcher and the card invoker ask it by name. It knows nothing of flows.
//!
//! Embedded sandbox orgs come from `lanyard-sandbox`, behind this crate's
//! `sandbox` feature; a build without it refuses `sandbox = true` at start
//! rather than carry the simulator.

use crate::config::{Config, OktaSetup};
use crate::engine::EngineError;
use lanyard_connect::Secret;
use lanyard_core::okta::OktaApi;
use lanyard_core::{Clock, Redactor, SecretSet};
#[cfg(feature = "sandbox")]
use lanyard_sandbox::okta::{RunningSandbox, SandboxConfig, SandboxOrg};
use lanyard_okta::OktaClient;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock};

/// One running org.
pub struct Org {
    name: String,
    kind: Kind,
    /// The capability its card steps get (scrubbed once the engine has its
    /// redactor); `None` for an events-only org.
    cap: Option<Arc<dyn OktaApi>>,
    self_actors: RwLock<HashSet<String>>,
    hook_secret: Option<Secret>,
    /// Ask Okta at start who the API token belongs to.
    detect_self: bool,
}

enum Kind {
    /// Events only: no API.
    None,
    /// Boxed: the running sandbox (server task, org) is large.
    #[cfg(feature = "sandbox")]
    Sandbox(Box<RunningSandbox>, OktaClient),
    Api(OktaClient),
    /// Replaced by the caller (tests).
    Injected,
}

impl Org {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its API client (a real org or the embedded sandbox), for System Log
    /// polling, samples and hook registration.
    pub fn client(&self) -> Option<&OktaClient> {
        match &self.kind {
            Kind::Api(c) => Some(c),
            #[cfg(feature = "sandbox")]
            Kind::Sandbox(_, c) => Some(c),
            Kind::None | Kind::Injected => None,
        }
    }

    /// The embedded sandbox org, when this org is one.
    #[cfg(feature = "sandbox")]
    pub fn sandbox(&self) -> Option<&RunningSandbox> {
        match &self.kind {
            Kind::Sandbox(s, _) => Some(s),
            _ => None,
        }
    }

    /// The `Authorization` value its Event Hook sends, if hooks are on.
    /// With this org an embedded sandbox org with a hook secret: register an
    /// Event Hook in that sandbox that delivers to `hook_url` (every event type
    /// Okta allows in hooks) and verify it, as an Okta admin would. Returns the
    /// hook's id.
    #[cfg(feature = "sandbox")]
    pub async fn register_sandbox_hook(&self, hook_url: &str) -> Result<String, String> {
        let Some(running) = self.sandbox() else {
            return Err(format!("the Okta org `{}` is not an embedded sandbox org (sandbox = true)", self.name()));
        };
        let Some(secret) = self.hook_secret() else {
            return Err(format!("set a hook secret for the Okta org `{}` so the sandbox can authenticate its deliveries", self.name()));
        };
        let cfg = lanyard_okta::OktaConfig::new(&running.base_url, lanyard_okta::Auth::Ssws(running.org.admin_token().to_string()))
            .map_err(|e| e.to_string())?;
        let admin = lanyard_okta::OktaClient::new(cfg).map_err(|e| e.to_string())?;
        let spec = lanyard_okta::EventHookSpec {
            name: "lanyard".into(),
            uri: hook_url.to_string(),
            authorization: Some(secret.expose().to_string()),
            headers: Vec::new(),
            event_types: lanyard_core::event::hook_event_types().iter().cloned().collect(),
        };
        let hook = admin.create_event_hook(&spec).await.map_err(|e| format!("cannot register the event hook: {e}"))?;
        admin
            .verify_event_hook(&hook.id)
            .await
            .map_err(|e| format!("the sandbox could not verify the event hook at {hook_url}: {e}"))?;
        tracing::info!(org = %self.name(), hook = %hook.id, url = %hook_url, "sandbox org delivers its events to this daemon");
        Ok(hook.id)
    }

    pub fn hook_secret(&self) -> Option<&Secret> {
        self.hook_secret.as_ref()
    }

    /// Whether `id` is the daemon's own identity in this org.
    pub fn is_self_actor(&self, id: &str) -> bool {
        self.self_actors.read().unwrap_or_else(|p| p.into_inner()).contains(id)
    }

    pub fn self_actor_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.self_actors.read().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect();
        v.sort();
        v
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::None => "events-only",
            #[cfg(feature = "sandbox")]
            Kind::Sandbox(..) => "sandbox",
            Kind::Api(_) => "org",
            Kind::Injected => "injected",
        }
    }

    /// Ask Okta who the API token belongs to, so the daemon's own events
    /// start no flows (an SSWS token with `detect_self`).
    pub(crate) async fn detect_self_actor(&self) {
        let Kind::Api(client) = &self.kind else { return };
        if !self.detect_self {
            return;
        }
        match tokio::time::timeout(std::time::Duration::from_secs(10), client.get_user("me")).await {
            Ok(Ok(user)) => {
                tracing::info!(org = %self.name, actor = %user.id, login = %user.login(), "events caused by this Okta identity start no flows unless a flow opts in");
                self.self_actors.write().unwrap_or_else(|p| p.into_inner()).insert(user.id);
            }
            Ok(Err(e)) => tracing::warn!(org = %self.name, error = %e, "cannot ask Okta who the API token belongs to; set self_actor_ids for this org so lanyard ignores its own events"),
            Err(_) => tracing::warn!(org = %self.name, "Okta did not say in time who the API token belongs to; set self_actor_ids for this org"),
        }
    }
}

/// Every running org, in name order.
pub struct Orgs {
    orgs: Vec<Org>,
    default: Option<usize>,
}

impl Orgs {
    /// Start every configured org: clients for real orgs, the embedded
    /// sandboxes on their own sockets. `injected` replaces the default org's
    /// capability (one named `default` when none is configured).
    #[cfg_attr(not(feature = "sandbox"), allow(unused_mut, unused_variables))]
    pub async fn start(config: &Config, injected: Option<Arc<dyn OktaApi>>, clock: Arc<dyn Clock>) -> Result<Orgs, EngineError> {
        let default_name = config.okta_orgs().default_org().map(str::to_string);
        let mut orgs = Vec::with_capacity(config.orgs.len());
        for org in &config.orgs {
            let is_default = default_name.as_deref() == Some(org.name.as_str());
            let mut self_actors: HashSet<String> = org.self_actor_ids().iter().cloned().collect();
            let (kind, cap, detect_self) = match (&org.setup, &injected) {
                (_, Some(api)) if is_default => (Kind::Injected, Some(api.clone()), false),
                (OktaSetup::None, _) => (Kind::None, None, false),
                #[cfg(not(feature = "sandbox"))]
                (OktaSetup::Sandbox { .. }, _) => {
                    return Err(EngineError::Okta(format!(
                        "the Okta org `{}` is an embedded sandbox org (`sandbox = true`), and this build of lanyard has none: build it with the `sandbox` feature, or point the org at a real Okta org",
                        org.name
                    )));
                }
                #[cfg(feature = "sandbox")]
                (OktaSetup::Sandbox { .. }, _) => {
                    let mut sandbox = SandboxConfig::default();
                    if !is_default {
                        sandbox.seed = seed_of(&org.name);
                    }
                    let running = RunningSandbox::start(SandboxOrg::new(sandbox, clock.clone()))
                        .await
                        .map_err(|e| EngineError::Okta(format!("cannot start the sandbox org `{}`: {e}", org.name)))?;
                    let client = client(&running.base_url, lanyard_okta::Auth::Ssws(running.org.service_token().to_string()))?;
                    self_actors.insert(running.org.service_user_id().to_string());
                    tracing::info!(
                        org = %org.name,
                        url = %running.base_url,
                        admin_token = %running.org.admin_token(),
                        "an embedded sandbox Okta org is serving (make events happen with `lanyard sandbox event --url ... --token ...`)"
                    );
                    let cap: Arc<dyn OktaApi> = Arc::new(lanyard_okta::OktaCapability::new(client.clone()));
                    (Kind::Sandbox(Box::new(running), client), Some(cap), false)
                }
                (OktaSetup::Org { org_url, auth, detect_self, .. }, _) => {
                    let client = client(&org_url.to_string(), auth.clone())?;
                    let cap: Arc<dyn OktaApi> = Arc::new(lanyard_okta::OktaCapability::new(client.clone()));
                    let detect = *detect_self && matches!(auth, lanyard_okta::Auth::Ssws(_));
                    (Kind::Api(client), Some(cap), detect)
                }
            };
            orgs.push(Org {
                name: org.name.clone(),
                kind,
                cap,
                self_actors: RwLock::new(self_actors),
                hook_secret: org.hook_secret.clone(),
                detect_self,
            });
        }
        if orgs.is_empty()
            && let Some(api) = injected
        {
            orgs.push(Org {
                name: lanyard_flow::DEFAULT_ORG.to_string(),
                kind: Kind::Injected,
                cap: Some(api),
                self_actors: RwLock::new(HashSet::new()),
                hook_secret: None,
                detect_self: false,
            });
        }
        let mut orgs = Orgs { orgs, default: None };
        let names = orgs.names();
        orgs.default = names.default_org().and_then(|d| orgs.orgs.iter().position(|o| o.name == d));
        Ok(orgs)
    }

    /// The sandboxes' tokens, which the redactor scrubs as it does configured secrets.
    #[cfg_attr(not(feature = "sandbox"), allow(unused_variables))]
    pub fn secrets(&self, set: &mut SecretSet) {
        #[cfg(feature = "sandbox")]
        for org in &self.orgs {
            if let Some(s) = org.sandbox() {
                set.add(s.org.service_token()).add(s.org.admin_token());
            }
        }
    }

    /// What Okta answers reaches cards scrubbed of every secret, as http's does.
    pub fn scrub_with(&mut self, redactor: &Arc<Redactor>) {
        for org in &mut self.orgs {
            if let Some(api) = org.cap.take() {
                org.cap = Some(Arc::new(lanyard_core::ScrubbedOkta::new(api, redactor.clone())));
            }
        }
    }

    /// Their names, as flows' `org:` is checked against them.
    pub fn names(&self) -> lanyard_flow::OktaOrgs {
        lanyard_flow::OktaOrgs::new(self.orgs.iter().map(|o| o.name.clone()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Org> {
        self.orgs.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.name == name)
    }

    /// The org used where none is named: the only one, or the one named `default`.
    pub fn default_org(&self) -> Option<&Org> {
        self.default.map(|i| &self.orgs[i])
    }

    /// How the inbox records an event of `org`: `None` for the default org
    /// (as every event was stored before there were several), else its name.
    pub fn store_org<'a>(&self, org: &'a str) -> Option<&'a str> {
        match self.default_org() {
            Some(d) if d.name == org => None,
            _ => Some(org),
        }
    }

    /// The org of an event as the inbox recorded it ([`Orgs::store_org`]):
    /// an event stored without one is the default org's.
    pub fn event_org<'a>(&'a self, stored: Option<&'a str>) -> Option<&'a str> {
        stored.or_else(|| self.default_org().map(|o| o.name.as_str()))
    }

    /// The path an org's Event Hook delivers to: `/hooks/okta` for the
    /// default org, `/hooks/okta/<name>` for the others (which also answer
    /// the default org's name).
    pub fn hook_path(&self, org: &str) -> String {
        match self.default_org() {
            Some(d) if d.name == org => "/hooks/okta".to_string(),
            _ => format!("/hooks/okta/{org}"),
        }
    }

    /// The Okta capability of each org, for card calls.
    pub fn capabilities(&self) -> OktaByOrg {
        OktaByOrg {
            by_name: Arc::new(self.orgs.iter().filter_map(|o| Some((o.name.clone(), o.cap.clone()?))).collect()),
            default: self.default_org().map(|o| o.name.clone()),
        }
    }

    /// Every org as the admin API shows it (`GET /api/v1/okta/orgs`).
    pub fn views(&self) -> Vec<lanyard_core::admin_api::Org> {
        self.orgs
            .iter()
            .map(|o| lanyard_core::admin_api::Org {
                name: o.name.clone(),
                kind: o.kind_name().to_string(),
                url: o.client().map(|c| c.base_url().as_str().trim_end_matches('/').to_string()),
                default: self.default_org().is_some_and(|d| d.name == o.name),
                hook_path: o.hook_secret.as_ref().map(|_| self.hook_path(&o.name)),
                self_actor_ids: o.self_actor_ids(),
            })
            .collect()
    }
}

/// The Okta capability of each org: a card call gets the one of its step's
/// org (`lanyard_flow::CardCall::org`), or the default org's.
#[derive(Clone, Default)]
pub struct OktaByOrg {
    by_name: Arc<BTreeMap<String, Arc<dyn OktaApi>>>,
    default: Option<String>,
}

impl OktaByOrg {
    /// The capability a step of `org` gets (`None`: the step names no org
    /// and there is a default). `None` when that org has no API.
    pub fn for_step(&self, org: Option<&str>) -> Option<Arc<dyn OktaApi>> {
        let name = org.or(self.default.as_deref())?;
        self.by_name.get(name).cloned()
    }
}

fn client(url: &str, auth: lanyard_okta::Auth) -> Result<OktaClient, EngineError> {
    let cfg = lanyard_okta::OktaConfig::new(url, auth).map_err(|e| EngineError::Okta(e.to_string()))?;
    OktaClient::new(cfg).map_err(|e| EngineError::Okta(e.to_string()))
}

/// A sandbox seed of its own for every org name but the default's (which
/// keeps the seed everything else knows): FNV-1a of the name.
#[cfg(feature = "sandbox")]
fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_sandbox_orgs_are_distinct_and_steps_get_their_orgs_capability() {
        let text = "[okta.orgs.prod]\nsandbox = true\nhook_secret = { value = \"Bearer p\" }\n[okta.orgs.preview]\nsandbox = true\n";
        let config = Config::parse(text, None, &std::collections::BTreeMap::<String, String>::new()).unwrap();
        let orgs = Orgs::start(&config, None, Arc::new(lanyard_core::SystemClock)).await.unwrap();
        let (prod, preview) = (orgs.get("prod").unwrap(), orgs.get("preview").unwrap());
        let (a, b) = (prod.sandbox().unwrap(), preview.sandbox().unwrap());
        assert_ne!(a.base_url, b.base_url);
        assert_ne!(a.org.service_token(), b.org.service_token());
        assert_ne!(a.org.service_user_id(), b.org.service_user_id());
        let ids = |o: &SandboxOrg| o.users().into_iter().map(|u| u.id).collect::<HashSet<_>>();
        assert!(ids(&*a.org).is_disjoint(&ids(&*b.org)), "each org has people of its own");
        assert!(prod.is_self_actor(a.org.service_user_id()) && !prod.is_self_actor(b.org.service_user_id()));
        assert!(orgs.default_org().is_none());
        assert_eq!((orgs.store_org("prod"), orgs.event_org(None)), (Some("prod"), None));
        assert_eq!(orgs.hook_path("prod"), "/hooks/okta/prod");

        let caps = orgs.capabilities();
        assert!(caps.for_step(None).is_none(), "no default org");
        assert!(caps.for_step(Some("nope")).is_none());
        let user = &b.org.users()[0];
        assert!(a.org.user(&user.id).is_none());
        let found = caps.for_step(Some("preview")).unwrap().get_user(&user.id).await.unwrap();
        assert_eq!(found.id, user.id);
        assert!(caps.for_step(Some("prod")).unwrap().get_user(&user.id).await.is_err(), "prod does not have preview's user");

        let views = orgs.views();
        assert_eq!(views.iter().map(|v| (v.name.as_str(), v.kind.as_str(), v.hook_path.as_deref())).collect::<Vec<_>>(), [
            ("preview", "sandbox", None),
            ("prod", "sandbox", Some("/hooks/okta/prod"))
        ]);
    }

    #[tokio::test]
    async fn one_org_is_the_default_its_events_stored_without_an_org() {
        let config = Config::parse("[okta]\nsandbox = true\n", None, &std::collections::BTreeMap::<String, String>::new()).unwrap();
        let orgs = Orgs::start(&config, None, Arc::new(lanyard_core::SystemClock)).await.unwrap();
        let d = orgs.default_org().unwrap();
        assert_eq!(d.name(), lanyard_flow::DEFAULT_ORG);
        let seeded = SandboxOrg::new(SandboxConfig::default(), Arc::new(lanyard_core::SystemClock));
        assert_eq!(d.sandbox().unwrap().org.service_token(), seeded.service_token(), "the default org keeps the default seed");
        assert_eq!(orgs.store_org("default"), None);
        assert_eq!(orgs.event_org(None), Some("default"));
        assert_eq!(orgs.hook_path("default"), "/hooks/okta");
        assert!(orgs.capabilities().for_step(None).is_some());
    }
}
