//! Export the latest run of a cache to the `[[export]]` destinations of a config file, as
//! `posture assess` does after storing a run, and print how long it took:
//! `cargo run --release --example export-bench -- CACHE CONFIG`

use std::sync::Arc;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(cfg)) = (args.next(), args.next()) else {
        eprintln!("usage: export-bench CACHE CONFIG");
        std::process::exit(2);
    };
    let config = posture::config::Config::load(Some(std::path::Path::new(&cfg))).expect("config");
    let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
    let mut store = posture::store::Store::open(std::path::Path::new(&db)).expect("cache");
    let run = store.latest_run().expect("cache").expect("a run in the cache");
    let log: posture::export::Log = Arc::new(|m: String| eprintln!("{m}"));
    let exporter = posture::export::Exporter::new(&config, posture::export::Mode::Bounded, log)
        .expect("export settings")
        .expect("an [[export]] in the config");
    let t = Instant::now();
    exporter.after_run(&mut store, &catalog, run.id, &[]);
    println!("run {} ({} resources): exported in {:.2} s", run.id, run.resources, t.elapsed().as_secs_f64());
}
