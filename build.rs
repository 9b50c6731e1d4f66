//! The standards, demo estate and themes are embedded with `include_dir!`, which cannot tell
//! cargo about the files it reads on stable Rust: without this, editing a shipped check would
//! leave a stale copy in an incremental build.

fn main() {
    for dir in ["standards", "fixtures", "themes"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
