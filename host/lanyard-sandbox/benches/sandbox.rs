//! How fast the sandbox answers the real client (the daemon's benchmarks
//! hammer it): one user lookup, one compare-before-write group removal, and
//! a page of 200 users, each a full HTTP round trip on loopback.
//!
//! `cargo bench -p lanyard-sandbox --bench sandbox`

use criterion::{Criterion, criterion_group, criterion_main};
use lanyard_core::okta::OktaApi;
use lanyard_sandbox::okta::{RunningSandbox, SandboxOrg};
use lanyard_okta::{Auth, OktaCapability, OktaClient, OktaConfig};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sandbox = rt.block_on(RunningSandbox::start(SandboxOrg::with_defaults())).unwrap();
    let org = sandbox.org.clone();
    let client = OktaClient::new(OktaConfig::new(&sandbox.base_url, Auth::Ssws(org.service_token().into())).unwrap()).unwrap();
    let okta = OktaCapability::new(client.clone());
    let user = org.users().into_iter().find(|u| u.status == "ACTIVE").unwrap();
    let sales = org.group_by_name("Sales").unwrap();

    let mut g = c.benchmark_group("sandbox");
    g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    g.bench_function("get_user", |b| b.to_async(&rt).iter(|| async { client.get_user(&user.id).await.unwrap() }));
    g.bench_function("remove_from_group_unchanged", |b| {
        b.to_async(&rt).iter(|| async { okta.remove_from_group(&sales.id, &user.id).await.unwrap() })
    });
    g.bench_function("list_users_page_200", |b| {
        b.to_async(&rt).iter(|| async { client.list_users_page(&Default::default(), None).await.unwrap() })
    });
    g.finish();
    drop(sandbox);
}

criterion_group!(benches, bench);
criterion_main!(benches);
