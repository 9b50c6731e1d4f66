//! AWS: 20 accounts of the organization through assumed roles, each with the dev fixture's
//! configuration items plus copies of its buckets, volumes and security groups up to n / 20,
//! paged 100 at a time as Config's Select answers, and the CLI-shaped data sets of each account.

#[path = "../../tests/collect_aws_support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use support::*;

/// Collect about `n` resources in 20 accounts into `dir/snap`.
pub async fn collect(n: usize, dir: &std::path::Path) -> (posture::collect::Collected, usize) {
    let accounts: Vec<String> = (0..20).map(|i| format!("{:012}", 500_000_000_000u64 + i)).collect();
    let per_account = n / accounts.len();
    let fixture = items(&accounts[0]).len();
    let aws = Aws::start(Estate {
        org_accounts: accounts.clone(),
        page_size: 100,
        extra_items: per_account.saturating_sub(fixture),
        ..Default::default()
    })
    .await;
    let mut opts = posture::collect::aws::AwsOptions { role_name: Some("Audit".into()), ..options() };
    opts.http.max_in_flight = 16;
    let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
    let env = env_for(&aws.server.uri(), dir);
    let got = posture::collect::aws::collect(
        &catalog,
        &opts,
        &env,
        &dir.join("snap"),
        Box::new(|_| {}),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("collect");
    (got, accounts.len())
}
