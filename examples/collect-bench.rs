//! Collect then assess N Azure resources from the tests' mock Resource Graph / ARM / Graph on
//! 127.0.0.1, and print how long each took:
//! `cargo run --release --example collect-bench -- 100000`

#[path = "../tests/collect_azure_support/mod.rs"]
mod support;

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use support::*;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let subs: Vec<String> = (1..=50).map(sub).collect();
    let az = Azure::start(Estate::default()).await;
    // One in ten is a storage account (two ARM GETs each: blob and file services); the rest are
    // disks, network security groups and virtual machines read from Resource Graph alone.
    let types =
        ["microsoft.compute/disks", "microsoft.network/networksecuritygroups", "microsoft.compute/virtualmachines"];
    let rows = (0..n)
        .map(|i| {
            let s = &subs[i % subs.len()];
            if i % 10 == 0 {
                return storage(s, i);
            }
            let t = types[i % 3];
            json!({"id": format!("/subscriptions/{s}/resourceGroups/rg/providers/{t}/r{i:07}"), "name": format!("r{i:07}"),
                   "type": t, "location": "westeurope", "resourceGroup": "rg", "subscriptionId": s, "tags": {},
                   "properties": {"encryption": {"type": "EncryptionAtRestWithPlatformKey"}, "securityRules": []}})
        })
        .collect();
    az.set(|e| {
        e.tables.insert(
            "resourcecontainers".into(),
            subs.iter().enumerate().map(|(i, s)| subscription_row(s, i)).collect(),
        );
        e.tables.insert("resources".into(), rows);
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = az.options();
    opts.http.max_in_flight = 16;
    let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
    let t = Instant::now();
    let got = posture::collect::azure::collect(
        &catalog,
        &opts,
        &secret_env(),
        &dir.path().join("snap"),
        Box::new(|_| {}),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("collect");
    let collect_s = t.elapsed().as_secs_f64();
    let requests = got.manifest.requests.sent;
    let catalog2 = posture::catalog::Catalog::load_with_dirs(&[]);
    let snap = got.path.clone();
    let db = dir.path().join("c.db");
    let t = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        let mut store = posture::store::Store::open(&db).expect("store");
        let spec = posture::sources::SourceSpec::Path { path: snap, cloud: None };
        posture::pipeline::run_and_store(&mut store, &catalog2, &[spec], &[], 90, &AtomicBool::new(false), &mut |_| {})
            .expect("assess")
    })
    .await
    .expect("join");
    let assess_s = t.elapsed().as_secs_f64();
    println!(
        "{n} resources, {} subscriptions: collect {collect_s:.1} s ({requests} requests, {} files, status {:?}); assess {assess_s:.1} s ({} resources assessed, {:?})",
        subs.len(),
        got.manifest.files,
        got.manifest.status,
        out.result.resources_assessed,
        out.result.status
    );
}
