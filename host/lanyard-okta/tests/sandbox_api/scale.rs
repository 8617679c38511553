//! An org of 50,000 more users: the same company inside, and every user
//! listed once when paged through 200 at a time.

use crate::rest::Org;
use lanyard_sandbox::okta::SandboxConfig;
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

const EXTRA: usize = 50_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_users_page_through_once_each() {
    let made = Instant::now();
    let o = Org::with(SandboxConfig {
        extra_users: EXTRA,
        ..SandboxConfig::default()
    })
    .await;
    let made = made.elapsed();
    let users = o.org().users();
    let base = Org::new().await.org().users();
    assert_eq!(users.len(), base.len() + EXTRA);

    // The company is the one without the extra users, ids and all.
    let by_id: HashMap<&str, &lanyard_core::okta::User> =
        users.iter().map(|u| (u.id.as_str(), u)).collect();
    for u in &base {
        assert_eq!(by_id.get(u.id.as_str()), Some(&u), "{}", u.id);
    }
    // The generated people are spread out as a company's are.
    let extra: Vec<_> = users
        .iter()
        .filter(|u| {
            u.profile
                .get("employeeNumber")
                .and_then(|e| e.as_str())
                .is_some_and(|e| e.starts_with('X'))
        })
        .collect();
    assert_eq!(extra.len(), EXTRA);
    let depts: BTreeSet<&str> = extra
        .iter()
        .map(|u| u.profile["department"].as_str().unwrap())
        .collect();
    assert_eq!(depts.len(), 9, "{depts:?}");
    // Four in five generated people have a factor; the company's counts stay.
    let without = o.org().counts().users_without_factors;
    let base_without = Org::new().await.org().counts().users_without_factors;
    let extra_without = without - base_without;
    assert!(
        (EXTRA / 10..EXTRA * 3 / 10).contains(&extra_without),
        "{extra_without}"
    );
    let years: BTreeSet<String> = extra.iter().map(|u| u.created[..4].to_string()).collect();
    assert!(years.len() >= 6, "{years:?}");
    let logins: BTreeSet<String> = users.iter().map(|u| u.login().to_lowercase()).collect();
    assert_eq!(logins.len(), users.len());

    // Page through all of them: each listed user exactly once, by id.
    let listed = Instant::now();
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut next = Some("/api/v1/users?limit=200".to_string());
    while let Some(url) = next {
        let a = o.get(&url).await;
        assert_eq!(a.status, 200);
        assert!(a.items().len() <= 200);
        seen.extend(a.ids());
        next = a.next();
        pages += 1;
    }
    let listed = listed.elapsed();
    let want = users.iter().filter(|u| u.status != "DEPROVISIONED").count();
    assert_eq!(seen.len(), want);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "by id, each once");
    eprintln!(
        "{} users made in {made:.2?}; {want} listed in {pages} pages of 200 in {listed:.2?} ({:.1?} a page)",
        users.len(),
        listed / pages
    );
}
