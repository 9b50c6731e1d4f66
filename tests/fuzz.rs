//! A reproducible, bounded mutation test of every parser: inventory exports, standards TOML,
//! Prowler mutelists, Prowler and OSCAL imports, and the config. Seeded from the real files in
//! ../shared/data, fixtures/ and standards/. A case fails on a panic, on a hang (a watchdog of
//! 20 s per case, generous on purpose: no timing is asserted), or, through the real binary, on
//! an exit code outside the documented ones (0-4).
//!
//! `POSTURE_FUZZ_SEED=N` replays a run, `POSTURE_FUZZ_CASES=N` runs more cases. Every failing
//! input is written out (the path is printed); keep it in tests/fuzz-regressions/ named
//! `<kind>-<what>.<ext>` (kind: inventory, standard, mutelist, prowler, oscal, config) and it
//! is replayed first on every run.

use posture::catalog::{Catalog, SourceFile, import};
use posture::sources::{Limits, SourceSpec, read_sources};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Inventory,
    Standard,
    Mutelist,
    Prowler,
    Oscal,
    Config,
}

const KINDS: [Kind; 6] = [Kind::Inventory, Kind::Standard, Kind::Mutelist, Kind::Prowler, Kind::Oscal, Kind::Config];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Inventory => "inventory",
            Kind::Standard => "standard",
            Kind::Mutelist => "mutelist",
            Kind::Prowler => "prowler",
            Kind::Oscal => "oscal",
            Kind::Config => "config",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Kind::Standard | Kind::Config => "toml",
            Kind::Mutelist => "yaml",
            _ => "json",
        }
    }
}

/// Largest seed kept whole; bigger JSON seeds are shrunk (every array cut to a few items).
const SEED_BYTES: usize = 64 << 10;
/// Per-case watchdog: far above any honest case, so a loaded machine never trips it.
const WATCHDOG: Duration = Duration::from_secs(20);
/// One case in this many (inventory and config) also runs through the real binary.
const BINARY_EVERY: usize = 40;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_below(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    for e in walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().flatten() {
        let ext = e.path().extension().and_then(|x| x.to_str()).unwrap_or("");
        if e.file_type().is_file() && exts.contains(&ext) {
            out.push(e.into_path());
        }
    }
}

/// Every array cut to three items, at every level, until the text is small.
fn shrink(text: Vec<u8>) -> Vec<u8> {
    fn cut(v: &mut Value) {
        match v {
            Value::Array(a) => {
                a.truncate(3);
                a.iter_mut().for_each(cut);
            }
            Value::Object(m) => m.values_mut().for_each(cut),
            _ => {}
        }
    }
    if text.len() <= SEED_BYTES {
        return text;
    }
    match serde_json::from_slice::<Value>(&text) {
        Ok(mut v) => {
            cut(&mut v);
            let out = serde_json::to_vec_pretty(&v).unwrap_or_default();
            if out.len() <= SEED_BYTES * 4 { out } else { out[..SEED_BYTES].to_vec() }
        }
        Err(_) => text[..SEED_BYTES].to_vec(),
    }
}

fn seeds() -> Vec<(Kind, Vec<u8>)> {
    let shared = root().join("../shared/data");
    assert!(
        shared.is_dir(),
        "the fuzz seeds live in {} (the shared data beside the repo, present in CI); it is missing",
        shared.display()
    );
    let mut out = Vec::new();
    let mut add = |kind: Kind, dirs: &[PathBuf], exts: &[&str], max: usize| {
        let mut files = Vec::new();
        for d in dirs {
            files_below(d, exts, &mut files);
        }
        for f in files.into_iter().take(max) {
            out.push((kind, shrink(std::fs::read(&f).unwrap())));
        }
    };
    add(
        Kind::Inventory,
        &[
            shared.join("aws-config-rdk-example-ci"),
            shared.join("azure-rest-api-specs"),
            shared.join("gcp-policy-library-cai"),
            root().join("fixtures"),
        ],
        &["json", "ndjson", "jsonl"],
        usize::MAX,
    );
    add(Kind::Standard, &[root().join("standards")], &["toml"], usize::MAX);
    add(Kind::Mutelist, &[shared.join("prowler/mutelist")], &["yaml", "yml"], usize::MAX);
    add(Kind::Prowler, &[shared.join("prowler/compliance")], &["json"], 12);
    add(Kind::Oscal, &[shared.join("oscal-content")], &["json"], 6);
    for config in [
        "",
        "sources = [\"azure:fuzz-a\", \"aws:fuzz-b\"]\nstandards_dirs = [\"fuzz-standards\"]\nassess_interval = \"12h\"\nretention_days = 90\ntheme = \"default\"\nattester = \"a@example.com\"\n[keys]\nquit = \"ctrl-q\"\nfilter = [\"/\", \"ctrl-f\"]\n",
        "assess_interval = \"94368760191893771d\"\nretention_days = 4294967296\n",
    ] {
        out.push((Kind::Config, config.as_bytes().to_vec()));
    }
    for kind in KINDS {
        assert!(out.iter().any(|(k, _)| *k == kind), "no seed for {kind:?}");
    }
    out
}

/// A value of another type than `v`.
fn other_type(v: &Value, rng: &mut ChaCha8Rng) -> Value {
    let choices = [
        Value::Null,
        Value::Bool(true),
        Value::from(-1),
        Value::from(1e308),
        Value::from(u64::MAX),
        Value::String("\u{1b}[2J\u{202e}".into()),
        Value::Array(vec![Value::Null; 3]),
        serde_json::json!({"id": 1, "type": [], "name": {}}),
    ];
    loop {
        let c = &choices[rng.random_range(0..choices.len())];
        if std::mem::discriminant(c) != std::mem::discriminant(v) {
            return c.clone();
        }
    }
}

/// Replace one node of `v`, picked at random, by a value of another type.
fn swap_type(v: &mut Value, rng: &mut ChaCha8Rng) {
    let children = match v {
        Value::Array(a) if !a.is_empty() => a.len(),
        Value::Object(m) if !m.is_empty() => m.len(),
        _ => 0,
    };
    if children == 0 || rng.random_ratio(1, 4) {
        *v = other_type(v, rng);
        return;
    }
    let i = rng.random_range(0..children);
    match v {
        Value::Array(a) => swap_type(&mut a[i], rng),
        Value::Object(m) => {
            if let Some((_, c)) = m.iter_mut().nth(i) {
                swap_type(c, rng)
            }
        }
        _ => {}
    }
}

/// `text` parsed in its kind's format, mutated as a tree, written back (None if it does not parse).
fn swap_in_tree(kind: Kind, text: &[u8], rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(text).ok()?;
    let mut v: Value = match kind.ext() {
        "toml" => toml::from_str(s).ok()?,
        "yaml" => serde_yaml::from_str(s).ok()?,
        _ => serde_json::from_str(s).ok()?,
    };
    swap_type(&mut v, rng);
    match kind.ext() {
        "toml" => toml::to_string(&v).ok().map(String::into_bytes),
        "yaml" => serde_yaml::to_string(&v).ok().map(String::into_bytes),
        _ => serde_json::to_vec(&v).ok(),
    }
}

const ODD: [&str; 12] = [
    "\u{0}",
    "\u{1b}[2J",
    "\u{202e}",
    "\u{feff}",
    "\u{10ffff}",
    "\\u0000",
    "\\ud800",
    "\\",
    "\"",
    "\n",
    "1e999999999",
    "-18446744073709551617",
];

fn mutate(kind: Kind, seed: &[u8], other: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        let at = if b.is_empty() { 0 } else { rng.random_range(0..=b.len()) };
        match rng.random_range(0..9) {
            0 => {
                for _ in 0..rng.random_range(1..8) {
                    if !b.is_empty() {
                        let i = rng.random_range(0..b.len());
                        b[i] = rng.random();
                    }
                }
            }
            1 => b.truncate(at),
            2 => {
                let from = if other.is_empty() { 0 } else { rng.random_range(0..other.len()) };
                b.truncate(at);
                b.extend_from_slice(&other[from..]);
            }
            3 => {
                let n = rng.random_range(64..4000);
                let (open, close) = if rng.random() { ("[", "]") } else { ("{\"a\":", "}") };
                let mut nested = open.repeat(n).into_bytes();
                nested.extend_from_slice(&b);
                nested.extend_from_slice(close.repeat(n).as_bytes());
                b = nested;
            }
            4 => {
                let huge = ["1e999999999", "18446744073709551616999", &"9".repeat(400), "-0.0e-99999", "NaN"];
                let h = huge[rng.random_range(0..huge.len())];
                if let Some(i) = b.iter().skip(at).position(u8::is_ascii_digit) {
                    b.splice(at + i..at + i + 1, h.bytes());
                } else {
                    b.splice(at..at, h.bytes());
                }
            }
            5 => {
                // a key or line repeated: duplicate keys in every format
                let start = b[..at].iter().rposition(|c| *c == b'\n').map_or(0, |i| i + 1);
                let end = b[at..].iter().position(|c| *c == b'\n').map_or(b.len(), |i| at + i + 1);
                let line = b[start..end].to_vec();
                b.splice(end..end, line);
                if kind.ext() == "json"
                    && let Some(i) = b.windows(2).position(|w| w == b"{\"")
                {
                    b.splice(i + 1..i + 1, b"\"id\":1,\"id\":\"x\",".iter().copied());
                }
            }
            6 => {
                let odd: &[u8] =
                    if rng.random_ratio(1, 4) { &[0xff, 0xc3] } else { ODD[rng.random_range(0..ODD.len())].as_bytes() };
                b.splice(at..at, odd.iter().copied());
            }
            _ => {
                if let Some(t) = swap_in_tree(kind, &b, rng) {
                    b = t;
                }
            }
        }
    }
    b
}

/// What every in-process case needs.
struct Ctx {
    catalog: Catalog,
    dir: tempfile::TempDir,
}

/// Run one input through its parser in this process.
fn parse(kind: Kind, input: &[u8], ctx: &Ctx, rng_bits: u64) {
    let text = String::from_utf8_lossy(input);
    match kind {
        Kind::Inventory => {
            let file = ctx.dir.path().join(if rng_bits & 1 == 0 { "case.json" } else { "case.ndjson" });
            std::fs::write(&file, input).unwrap();
            let cloud = [None, Some("azure"), Some("aws"), Some("gcp")][(rng_bits >> 1) as usize % 4];
            let spec: SourceSpec = match cloud {
                Some(c) => format!("{c}:{}", file.display()).parse().unwrap(),
                None => SourceSpec::Path { path: file, cloud: None },
            };
            // the streaming reader and small caps too, not only the in-memory reader
            let limits = match (rng_bits >> 3) % 3 {
                0 => Limits::default(),
                1 => Limits { in_memory_bytes: 0, ..Limits::default() },
                _ => {
                    Limits { max_string_bytes: 16, max_record_bytes: 2048, in_memory_bytes: (rng_bits >> 5) % 2 * 1024 }
                }
            };
            read_sources(&[spec], limits, &AtomicBool::new(false), &mut |_, _| {});
        }
        Kind::Standard => {
            let file = SourceFile { name: "fuzz.toml".into(), origin: "user".into(), text: text.into_owned() };
            Catalog::load(&[file]);
        }
        Kind::Mutelist => {
            let expires = chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap();
            let _ = posture::governance::import_mutelist(
                &ctx.catalog,
                &text,
                "fuzz.yaml",
                "fuzz",
                expires,
                chrono::Utc::now(),
            );
        }
        Kind::Prowler => {
            let _ = import::from_prowler(&text, None, None);
        }
        Kind::Oscal => {
            let _ = import::from_oscal(&text, None);
        }
        Kind::Config => {
            let file = ctx.dir.path().join("config.toml");
            std::fs::write(&file, input).unwrap();
            let _ = posture::config::Config::load(Some(&file));
        }
    }
}

/// Run one input through the real binary; an error unless it exits 0-4 without panicking.
fn run_binary(kind: Kind, input: &[u8], dir: &Path) -> Result<(), String> {
    let file = dir.join(format!("bin-case.{}", kind.ext()));
    std::fs::write(&file, input).unwrap();
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_posture"));
    // relative paths in a mutated config resolve inside the case folder
    cmd.current_dir(dir).env("POSTURE_DB", dir.join("c.db")).env_remove("NO_COLOR");
    match kind {
        Kind::Config => cmd.arg("--config").arg(&file).args(["standards", "list"]),
        _ => cmd.env("POSTURE_CONFIG", &empty).args(["assess", "--format", "json", "--source"]).arg(&file),
    };
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the binary hung (killed after {WATCHDOG:?})"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    match status.code() {
        Some(0..=4) if !stderr.contains("panicked") => Ok(()),
        code => Err(format!("exit {code:?} (signal or undocumented code), stderr: {stderr:.2000}")),
    }
}

/// The case being run, for the watchdog: its label and input.
type Current = Arc<Mutex<Option<(String, Kind, Vec<u8>, Instant)>>>;

/// Write a failing input where it can be kept, and say where.
fn save(kind: Kind, label: &str, input: &[u8]) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let name = format!("{}-{}.{}", kind.name(), label.replace([' ', '/', '#', '(', ')'], "_"), kind.ext());
    let path = dir.join(name);
    let _ = std::fs::write(&path, input);
    format!("input saved as {} (keep it in tests/fuzz-regressions/)", path.display())
}

fn watchdog(current: Current) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let slot = current.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((label, kind, input, at)) = slot.as_ref()
                && at.elapsed() > WATCHDOG
            {
                eprintln!("FUZZ HANG: {label}: no result after {WATCHDOG:?}; {}", save(*kind, label, input));
                std::process::exit(1);
            }
        }
    });
}

/// Run one case in this process (and maybe through the binary); the failure, if any.
fn case(
    kind: Kind,
    label: &str,
    input: &[u8],
    ctx: &Ctx,
    bits: u64,
    binary: bool,
    current: &Current,
) -> Option<String> {
    *current.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((label.to_string(), kind, input.to_vec(), Instant::now()));
    let mut failure = catch_unwind(AssertUnwindSafe(|| parse(kind, input, ctx, bits))).err().map(|p| {
        let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
        format!("panicked: {}", msg.unwrap_or_default())
    });
    if failure.is_none() && binary {
        failure = run_binary(kind, input, ctx.dir.path()).err();
    }
    *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    failure.map(|f| format!("{label}: {f}; {}", save(kind, label, input)))
}

#[test]
fn every_parser_survives_mutated_real_files() {
    let seed: u64 = std::env::var("POSTURE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x9057_u64);
    let cases: usize = std::env::var("POSTURE_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2400);
    eprintln!("fuzz: seed {seed}, {cases} cases (POSTURE_FUZZ_SEED / POSTURE_FUZZ_CASES to change)");
    // one line per panic: the failures are listed (with their inputs) at the end
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let ctx = Ctx { catalog: Catalog::load(&Catalog::builtin_files()), dir: tempfile::tempdir().unwrap() };
    let current: Current = Arc::default();
    watchdog(current.clone());
    let mut failures = Vec::new();

    // every case that once failed, first
    let mut kept = Vec::new();
    files_below(&root().join("tests/fuzz-regressions"), &["json", "toml", "yaml", "ndjson"], &mut kept);
    for path in &kept {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let kind = KINDS.iter().copied().find(|k| name.starts_with(&format!("{}-", k.name())));
        let Some(kind) = kind else { panic!("{name}: a regression file is named <kind>-<what>.<ext>") };
        let input = std::fs::read(path).unwrap();
        for bits in 0..12 {
            let binary = bits == 0 && matches!(kind, Kind::Inventory | Kind::Config);
            failures.extend(case(
                kind,
                &format!("regression {name} variant {bits}"),
                &input,
                &ctx,
                bits,
                binary,
                &current,
            ));
        }
    }

    let seeds = seeds();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ran = 0;
    for i in 0..cases {
        let kind = KINDS[i % KINDS.len()];
        let pool: Vec<&Vec<u8>> = seeds.iter().filter(|(k, _)| *k == kind).map(|(_, s)| s).collect();
        let base = pool[rng.random_range(0..pool.len())];
        let other = pool[rng.random_range(0..pool.len())];
        let input = mutate(kind, base, other, &mut rng);
        let bits: u64 = rng.random();
        let binary = matches!(kind, Kind::Inventory | Kind::Config) && (i / KINDS.len()).is_multiple_of(BINARY_EVERY);
        let label = format!("seed {seed} case {i} ({})", kind.name());
        failures.extend(case(kind, &label, &input, &ctx, bits, binary, &current));
        ran += 1;
    }
    eprintln!("fuzz: {} regression inputs, {ran} cases", kept.len());
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
}
