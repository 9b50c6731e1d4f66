//! Files compiled into the binary so it works from any directory.

use include_dir::{Dir, include_dir};

/// `standards/`: shipped standards and checks.
pub static STANDARDS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/standards");
/// `fixtures/`: the demo estate.
pub static FIXTURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures");
/// `themes/`: shipped themes.
pub static THEMES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/themes");
