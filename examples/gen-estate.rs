//! Write a large synthetic estate in the native export formats:
//! `cargo run --release --example gen-estate -- --resources N --seed S --out DIR [--partners]`

use clap::Parser;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// How many resources.
    #[arg(long, default_value_t = 100_000)]
    resources: usize,
    /// RNG seed: the same seed writes the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (azure/, aws/, gcp/ are created below it).
    #[arg(long)]
    out: PathBuf,
    /// Also write partners for related checks (vault diagnostic settings, VPCs and flow logs).
    #[arg(long)]
    partners: bool,
}

fn main() {
    let a = Args::parse();
    match posture::synth::generate_with(&a.out, a.resources, a.seed, a.partners) {
        Ok(w) => println!("wrote {} resources in {} files to {}", w.resources, w.files, a.out.display()),
        Err(e) => {
            eprintln!("error: {}: {e}", a.out.display());
            std::process::exit(1);
        }
    }
}
