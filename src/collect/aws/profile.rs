//! The shared credentials and config files (`~/.aws/credentials`, `~/.aws/config`, or
//! `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`): INI sections per profile, the config
//! file's spelled `[profile NAME]` (`[default]` alone), the credentials file's keys winning.

use std::collections::BTreeMap;
use std::path::Path;

/// One profile's keys, lowercase.
pub type Profile = BTreeMap<String, String>;

/// Every profile of both files, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profiles {
    profiles: BTreeMap<String, Profile>,
}

impl Profiles {
    /// Read the files (a missing file is no profile; an unreadable or malformed one is an error).
    pub fn load(config: &Path, credentials: &Path) -> Result<Profiles, String> {
        let mut p = Profiles::default();
        for (path, is_config) in [(config, true), (credentials, false)] {
            match std::fs::read_to_string(path) {
                Ok(text) => p.merge(&text, is_config).map_err(|e| format!("{}: {e}", path.display()))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        Ok(p)
    }

    /// The profile `name`, when either file has it.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    fn merge(&mut self, text: &str, is_config: bool) -> Result<(), String> {
        let mut current: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(inner) = line.strip_prefix('[') {
                let name = inner.strip_suffix(']').ok_or(format!("line {}: expected ']'", n + 1))?.trim();
                let name = match (is_config, name.strip_prefix("profile ")) {
                    (true, Some(p)) => p.trim(),
                    // Other config sections (`sso-session`, `services`) are not profiles.
                    (true, None) if name != "default" => {
                        current = None;
                        continue;
                    }
                    _ => name,
                };
                self.profiles.entry(name.to_string()).or_default();
                current = Some(name.to_string());
                continue;
            }
            if raw.starts_with([' ', '\t']) {
                // A nested sub-setting (`s3 =` blocks): not read.
                continue;
            }
            let (k, v) = line.split_once('=').ok_or(format!("line {}: expected 'key = value'", n + 1))?;
            if let Some(p) = current.as_ref().and_then(|c| self.profiles.get_mut(c)) {
                // The credentials file is read second: its keys win.
                p.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_make_the_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, creds) = (dir.path().join("config"), dir.path().join("credentials"));
        std::fs::write(
            &cfg,
            "[default]\nregion = eu-west-1\n[profile audit]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = default\n[sso-session x]\nsso_region = us-east-1\n",
        )
        .unwrap();
        std::fs::write(&creds, "# keys\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n").unwrap();
        let p = Profiles::load(&cfg, &creds).unwrap();
        assert_eq!(p.get("default").unwrap()["region"], "eu-west-1");
        assert_eq!(p.get("default").unwrap()["aws_access_key_id"], "AKIA1");
        assert_eq!(p.get("audit").unwrap()["source_profile"], "default");
        assert!(p.get("x").is_none() && p.get("sso-session x").is_none());
        std::fs::write(&creds, "[default\n").unwrap();
        assert!(Profiles::load(&cfg, &creds).unwrap_err().contains("line 1"));
        assert_eq!(Profiles::load(&dir.path().join("none"), &dir.path().join("none2")).unwrap(), Profiles::default());
    }
}
