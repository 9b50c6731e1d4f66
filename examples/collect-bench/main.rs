//! Collect then assess N resources from the tests' mocks on 127.0.0.1 (Azure Resource Graph /
//! ARM / Graph, AWS Config and the AWS CLI-shaped calls, GCP's Cloud Asset API), and print how
//! long each took: `cargo run --release --example collect-bench -- azure|aws|gcp 100000`

mod aws;
mod azure;
mod gcp;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let cloud = args.next().unwrap_or_else(|| "azure".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    let (got, scopes) = match cloud.as_str() {
        "azure" => azure::collect(n, dir.path()).await,
        "aws" => aws::collect(n, dir.path()).await,
        "gcp" => gcp::collect(n, dir.path()).await,
        other => panic!("unknown cloud {other}: azure, aws or gcp"),
    };
    let collect_s = t.elapsed().as_secs_f64();
    let m = &got.manifest;
    let (requests, files, status) = (m.requests.sent, m.files, m.status);
    let t = Instant::now();
    let out = assess(got.path.clone(), dir.path().join("c.db")).await;
    let assess_s = t.elapsed().as_secs_f64();
    println!(
        "{cloud}: {n} resources, {scopes} scopes: collect {collect_s:.1} s ({requests} requests, {files} files, status {status:?}); assess {assess_s:.1} s ({} resources assessed, {:?})",
        out.result.resources_assessed, out.result.status
    );
}

/// Assess the snapshot into a fresh cache, as `posture assess --source DIR` does.
async fn assess(snap: PathBuf, db: PathBuf) -> posture::pipeline::Outcome {
    tokio::task::spawn_blocking(move || {
        let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
        let mut store = posture::store::Store::open(&db).expect("store");
        let spec = posture::sources::SourceSpec::Path { path: snap, cloud: None };
        posture::pipeline::run_and_store(&mut store, &catalog, &[spec], &[], 90, &AtomicBool::new(false), &mut |_| {})
            .expect("assess")
    })
    .await
    .expect("join")
}
