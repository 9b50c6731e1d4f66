//! Azure: one in ten resources a storage account (two ARM GETs each: blob and file services);
//! the rest disks, network security groups and virtual machines read from Resource Graph alone.

#[path = "../../tests/collect_azure_support/mod.rs"]
mod support;

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use support::*;

/// Collect `n` resources in 50 subscriptions into `dir/snap`.
pub async fn collect(n: usize, dir: &std::path::Path) -> (posture::collect::Collected, usize) {
    let subs: Vec<String> = (1..=50).map(sub).collect();
    let az = Azure::start(Estate::default()).await;
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
    let mut opts = az.options();
    opts.http.max_in_flight = 16;
    let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
    let got = posture::collect::azure::collect(
        &catalog,
        &opts,
        &secret_env(),
        &dir.join("snap"),
        Box::new(|_| {}),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("collect");
    (got, subs.len())
}
