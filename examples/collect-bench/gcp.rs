//! GCP: 50 projects with n / 50 bucket assets each (their project asset too), RESOURCE and
//! IAM_POLICY content (every tenth bucket public), 1,000 per page as `assets.list` answers.

#[path = "../../tests/collect_gcp_support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use support::*;

/// Collect `n` buckets in 50 projects into `dir/snap`.
pub async fn collect(n: usize, dir: &std::path::Path) -> (posture::collect::Collected, usize) {
    let numbers: Vec<u64> = (1..=50).map(|i| 100 + i).collect();
    let per = n / numbers.len();
    let mut e = Estate::default();
    for &p in &numbers {
        let mut res = vec![project(p)];
        res.extend((0..per).map(|i| bucket(p, i)));
        e.assets.insert((format!("projects/{p}"), "RESOURCE".into()), res);
        let iam = (0..per).map(|i| bucket_iam(p, i, i % 10 == 0)).collect();
        e.assets.insert((format!("projects/{p}"), "IAM_POLICY".into()), iam);
    }
    let gcp = Gcp::start(e).await;
    let projects: Vec<String> = numbers.iter().map(u64::to_string).collect();
    let refs: Vec<&str> = projects.iter().map(String::as_str).collect();
    let mut opts = gcp.options(&refs);
    opts.http.max_in_flight = 16;
    let key = key_file(dir, &gcp.token_uri());
    let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
    let got = posture::collect::gcp::collect(
        &catalog,
        &opts,
        &env_with_key(&key),
        &dir.join("snap"),
        Box::new(|_| {}),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("collect");
    (got, numbers.len())
}
