//! End to end: the real binary in a pseudo-terminal, read back through a terminal emulator.

mod common;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Send a signal to the child (no `kill` binary needed).
#[cfg(unix)]
fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on a pid we spawned; no memory is involved.
    let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Option<Box<dyn Write + Send>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// The master side, kept for the session's life unless [`Session::hang_up`] closes it.
    master: Option<Box<dyn portable_pty::MasterPty + Send>>,
    /// Asks the reader thread to close its copy of the master after its next read.
    stop_reading: Arc<std::sync::atomic::AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

fn start(cols: u16, rows: u16, extra_env: &[(&str, &str)]) -> Session {
    start_in(tempfile::tempdir().unwrap(), cols, rows, extra_env)
}

fn start_in(dir: tempfile::TempDir, cols: u16, rows: u16, extra_env: &[(&str, &str)]) -> Session {
    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_posture"));
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "").unwrap();
    cmd.env("POSTURE_DB", dir.path().join("c.db"));
    cmd.env("POSTURE_CONFIG", &cfg);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("TMUX");
    cmd.env_remove("COLORTERM");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
    let raw = Arc::new(Mutex::new(Vec::new()));
    let stop_reading = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let thread = {
        let parser = Arc::clone(&parser);
        let raw = Arc::clone(&raw);
        let stop = Arc::clone(&stop_reading);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
                raw.lock().unwrap().extend_from_slice(&buf[..n]);
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
            }
        })
    };
    Session {
        parser,
        raw,
        writer: Some(writer),
        child,
        master: Some(pair.master),
        stop_reading,
        reader: Some(thread),
        _dir: dir,
    }
}

impl Session {
    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "'{text}' never appeared; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, bytes: &str) {
        let w = self.writer.as_mut().expect("the connection is up");
        w.write_all(bytes.as_bytes()).unwrap();
        w.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Drop the connection as sshd does when the network goes: close every copy of the master.
    /// `poke` is typed first so the console redraws and the reader wakes up to close its copy.
    fn hang_up(&mut self, poke: &str) {
        self.stop_reading.store(true, std::sync::atomic::Ordering::SeqCst);
        self.send(poke);
        self.reader.take().unwrap().join().unwrap();
        self.writer = None;
        self.master = None;
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "posture did not exit; screen:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn restored(&self) -> bool {
        // Left the alternate screen and showed the cursor again.
        let raw = self.raw.lock().unwrap();
        let text = String::from_utf8_lossy(&raw);
        text.contains("\x1b[?1049l") && text.rfind("\x1b[?1049l") > text.rfind("\x1b[?1049h")
    }
}

#[test]
fn opens_on_the_demo_estate_navigates_and_quits_cleanly() {
    let mut s = start(120, 40, &[]);
    // the worker assesses the empty cache at start; the console shows the run when it lands
    let screen = s.wait_for("compliance");
    assert!(screen.contains("DEMO DATA"), "{screen}");
    assert!(screen.contains("Standards") && screen.contains("Improvement actions"));
    s.send("\t"); // controls
    s.send("j");
    s.send("?");
    s.wait_for("Keys (override them");
    s.send("q"); // closes the popup, not the console
    s.wait_for("Improvement actions");
    assert!(!s.screen().contains("Keys (override them"), "help closed");
    assert!(s.child.try_wait().unwrap().is_none(), "q in a popup did not quit");
    s.send(":standard cis-gcp-5.0\r");
    s.wait_for("Controls · cis-gcp-5.0");
    s.send("q");
    let status = s.wait_exit();
    assert!(status.success(), "{status:?}");
    assert!(s.restored(), "terminal not restored");
}

#[test]
fn colours_follow_what_the_terminal_can_show() {
    // (any 24-bit colour, the highest palette index used); crossterm writes even the 16 basic
    // colours as `38;5;N`, which 16-colour terminals read.
    let sgr = |env: &[(&str, &str)]| {
        let mut s = start(100, 30, env);
        s.wait_for("compliance");
        s.send("q");
        assert!(s.wait_exit().success());
        let raw = String::from_utf8_lossy(&s.raw.lock().unwrap()).into_owned();
        let indexed = raw
            .split("8;5;")
            .skip(1)
            .filter_map(|t| t.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse::<u8>().ok()));
        (raw.contains("8;2;"), indexed.max().unwrap_or(0))
    };
    let (rgb, max) = sgr(&[("TERM", "linux")]);
    assert!(!rgb && max < 16, "16 colours on the Linux console: {rgb} {max}");
    let (rgb, max) = sgr(&[("TERM", "screen-256color")]);
    assert!(!rgb && max >= 16, "256 colours, no 24-bit: {rgb} {max}");
    assert!(sgr(&[("COLORTERM", "truecolor")]).0, "24-bit when the terminal says so");
}

#[test]
fn works_at_80x24_with_no_color() {
    let mut s = start(80, 24, &[("NO_COLOR", "1")]);
    s.wait_for("compliance");
    s.send("\r"); // into controls
    s.wait_for("Controls ·");
    s.send("\x1b");
    s.wait_for("Standards");
    // no colour escapes beyond the default: vt100 sees no foreground colour on the screen
    let parser = s.parser.lock().unwrap();
    let screen = parser.screen();
    let (rows, cols) = screen.size();
    for r in 0..rows {
        for c in 0..cols {
            if let Some(cell) = screen.cell(r, c) {
                assert_eq!(cell.fgcolor(), vt100::Color::Default, "colour at {r},{c} with NO_COLOR");
            }
        }
    }
    drop(parser);
    s.send("q");
    assert!(s.wait_exit().success());
    assert!(s.restored());
}

#[cfg(unix)]
#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let mut s = start(100, 30, &[]);
        s.wait_for("compliance");
        let pid = s.child.process_id().unwrap();
        signal(pid, sig);
        s.wait_exit();
        assert!(s.restored(), "{sig}: terminal not restored");
    }
}

/// A console with the attest form of a CIS AWS control open and `note` typed into it.
#[cfg(unix)]
fn attest_form_with_note(note: &str) -> Session {
    attest_form_with_note_env(note, &[])
}

#[cfg(unix)]
fn attest_form_with_note_env(note: &str, env: &[(&str, &str)]) -> Session {
    let mut s = start(120, 40, env);
    s.wait_for("compliance");
    s.send(":standard cis-aws-7.0\r");
    s.wait_for("Controls · cis-aws-7.0");
    s.send("a");
    s.wait_for("Attest cis-aws-7.0");
    s.send("\t\t");
    s.send(note);
    s.wait_for(note);
    s
}

#[cfg(unix)]
#[test]
fn a_form_open_when_the_connection_drops_is_offered_again() {
    let mut s = attest_form_with_note("access reviewed with the team lead");
    let pid = s.child.process_id().unwrap();
    signal(pid, libc::SIGHUP);
    s.wait_exit();
    assert!(s.restored());
    // same cache, new session: the draft comes back
    let dir = std::mem::replace(&mut s._dir, tempfile::tempdir().unwrap());
    let mut again = start_in(dir, 120, 40, &[]);
    let screen = again.wait_for("restored the unsaved form");
    assert!(screen.contains("access reviewed with the team lead"), "{screen}");
    // A passed attestation needs evidence: the restored form focuses its first field.
    again.send("\t\t\thttps://wiki.example.com/access-review\r");
    again.wait_for("attestation 1 saved");
    again.send("q");
    assert!(again.wait_exit().success());
}

#[cfg(unix)]
#[test]
fn closing_the_connection_with_a_form_open_keeps_the_draft_and_does_not_abort() {
    use portable_pty::ExitStatus;
    let mut s = attest_form_with_note("reviewed before the line dropped");
    s.hang_up("!");
    let status: ExitStatus = s.wait_exit();
    // Exit 1 ("terminal: ...") or 0 are fine; a signal (SIGABRT) is not.
    assert!(status.signal().is_none(), "posture died on a signal: {status:?}");
    let draft = std::fs::read_to_string(s._dir.path().join("draft.json")).expect("a draft beside the cache");
    assert!(draft.contains("reviewed before the line dropped!"), "{draft}");
}

#[test]
fn r_on_a_cache_of_real_runs_reassesses_its_sources_not_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let azure = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/azure");
    let db = dir.path().join("c.db");
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_posture"))
        .env("POSTURE_DB", &db)
        .env("POSTURE_CONFIG", dir.path().join("config.toml"))
        .args(["assess", "--source"])
        .arg(format!("azure:{}", azure.display()))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mut s = start_in(dir, 120, 40, &[]);
    s.wait_for("compliance");
    assert!(!s.screen().contains("DEMO DATA"), "{}", s.screen());
    s.send("r");
    s.wait_for("run 2 complete");
    s.send("q");
    assert!(s.wait_exit().success());
    let store = posture::store::Store::open(&db).unwrap();
    let run = store.latest_run().unwrap().unwrap();
    assert_eq!(run.id, 2);
    assert!(!run.demo, "the demo went into a cache of real runs");
    assert_eq!(posture::pipeline::run_sources(&run), vec![format!("azure:{}", azure.display()).parse().unwrap()]);
}

#[cfg(unix)]
#[test]
fn an_attestation_made_in_the_console_is_signed_by_the_ssh_agent() {
    let agent = common::Agent::start();
    agent.add_key("lead", "lead@example.com");
    let sock = agent.sock.display().to_string();
    let mut s = attest_form_with_note_env("signed from the console", &[("SSH_AUTH_SOCK", sock.as_str())]);
    // A passed attestation needs evidence: Tab from the note to it.
    s.send("\thttps://wiki.example.com/signed-review\r");
    // The signing note follows the "saved" message in the status bar.
    s.wait_for("signed with ssh-ed25519");
    s.send("q");
    assert!(s.wait_exit().success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_posture"))
        .env("POSTURE_DB", s._dir.path().join("c.db"))
        .env("POSTURE_CONFIG", s._dir.path().join("config.toml"))
        .args(["audit", "--format", "json"])
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sig = log[0]["signature"].as_str().unwrap_or_default();
    assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"), "{log}");
}
