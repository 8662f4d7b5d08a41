//! node-ipc 14's socket root: the directory local sockets live in, and the checks a local server
//! makes before it listens. Used by the Node binding (`ipc.server.start()` under a node-ipc 14
//! profile or with `secureSocketRoot`) and by the async Rust API, so both refuse the same things.
//!
//! - A *secure* root is a real directory owned by this user with no group or other permissions.
//!   A missing root is created with mode 0700. An existing one that fails the test is refused
//!   (`ERR_IPC_SOCKET_ROOT`) and never `chmod`ed: node-ipc 14 tightened it to 0700, which with a
//!   shared root such as `/tmp` (node-ipc 9/12's default) takes it away from every other user.
//! - The assured profile serves local sockets only directly inside a secure root
//!   (`ERR_IPC_ASSURED_TRANSPORT`), and not on Windows.
//! - Under node-ipc 14's profiles, `unlink` refuses to replace anything but a socket
//!   (`ERR_IPC_UNLINK_NOT_SOCKET`).

use std::path::{Component, Path, PathBuf};

use crate::profile::SetupError;

/// node-ipc 14's default socket root on Windows: `/node-ipc-<user>/` (characters of the user name
/// outside `[A-Za-z0-9_.-]` become `_`).
#[cfg(not(unix))]
pub fn v14_default() -> String {
    let user = std::env::var("USERNAME").unwrap_or_default();
    let user: String =
        user.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '_' }).collect();
    format!("/node-ipc-{user}/")
}

/// node-ipc 14's default socket root, as it computes it in Node: `$XDG_RUNTIME_DIR/node-ipc/`, or
/// `<os.tmpdir()>/node-ipc-<uid>/` (`os.tmpdir()`: `$TMPDIR`, `$TMP`, `$TEMP` or `/tmp`).
#[cfg(unix)]
pub fn v14_default() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    v14_default_from(|k| std::env::var(k).ok(), uid)
}

/// [`v14_default`] for the environment variables `env` gives and the user id `uid`.
#[cfg(unix)]
fn v14_default_from(env: impl Fn(&str) -> Option<String>, uid: u32) -> String {
    let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(runtime) = non_empty("XDG_RUNTIME_DIR") {
        return format!("{}/node-ipc/", runtime.trim_end_matches('/'));
    }
    let tmp = non_empty("TMPDIR").or_else(|| non_empty("TMP")).or_else(|| non_empty("TEMP")).unwrap_or("/tmp".into());
    format!("{}/node-ipc-{uid}/", tmp.trim_end_matches('/'))
}

/// What a local server's start checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalRules {
    /// The assured profile: the socket must be directly inside a secure root.
    pub assured: bool,
    /// The root must be secure (`secureSocketRoot`).
    pub secure: bool,
    /// Create a missing root (node-ipc 14's profiles, or `secure`).
    pub create: bool,
    /// Refuse when something other than a socket sits at the path (node-ipc 14's `unlink`).
    pub refuse_non_socket: bool,
}

/// `path` made absolute against the current directory, with `.` and `..` resolved lexically (as
/// Node's `path.resolve` does).
fn resolve(path: &Path) -> PathBuf {
    let base = if path.is_absolute() { PathBuf::new() } else { std::env::current_dir().unwrap_or_default() };
    let mut out = PathBuf::from("/");
    for c in base.components().chain(path.components()) {
        match c {
            Component::RootDir | Component::Prefix(_) => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    out
}

/// `target` relative to `root`: `None` when it lies outside, else its components below `root`.
fn below(root: &Path, target: &Path) -> Option<usize> {
    let (root, target) = (resolve(root), resolve(target));
    target.strip_prefix(&root).ok().map(|rest| rest.components().count())
}

/// The checks before a local server at `path` listens, with `root` its socket root (node-ipc 14's
/// order: assured placement, then the root, then the unlink rule).
pub fn check_local_server(root: &str, path: &str, rules: LocalRules) -> Result<(), SetupError> {
    let (root_p, path_p) = (Path::new(root), Path::new(path));
    let depth = below(root_p, path_p);
    if rules.assured {
        if cfg!(windows) {
            return Err(SetupError::new(
                "ERR_IPC_ASSURED_TRANSPORT",
                "the assured profile cannot serve a Windows named pipe (its ACL cannot be checked); use mutual TLS",
            ));
        }
        if !rules.secure {
            return Err(SetupError::new(
                "ERR_IPC_ASSURED_TRANSPORT",
                "the assured profile needs secureSocketRoot for local sockets",
            ));
        }
        if depth != Some(1) {
            return Err(SetupError::new(
                "ERR_IPC_ASSURED_TRANSPORT",
                format!("the assured profile needs the socket directly inside socketRoot ({root}), not at {path}"),
            ));
        }
    }
    if cfg!(windows) {
        return Ok(());
    }
    if depth.is_some() && (rules.create || rules.secure) {
        prepare_root(&resolve(root_p), rules.secure)?;
    }
    if rules.refuse_non_socket {
        refuse_non_socket(path_p)?;
    }
    Ok(())
}

#[cfg_attr(not(unix), allow(dead_code))]
fn root_error(message: String) -> SetupError {
    SetupError::new("ERR_IPC_SOCKET_ROOT", message)
}

// (Windows: node-ipc 14 neither creates nor checks a root for named pipes.)
#[cfg(not(unix))]
fn prepare_root(_dir: &Path, _secure: bool) -> Result<(), SetupError> {
    Ok(())
}

#[cfg(unix)]
fn prepare_root(dir: &Path, secure: bool) -> Result<(), SetupError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| root_error(format!("cannot create socketRoot {}: {e}", dir.display())))?;
    if !secure {
        return Ok(());
    }
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| root_error(format!("cannot inspect socketRoot {}: {e}", dir.display())))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(root_error(format!("socketRoot {} must be a real directory", dir.display())));
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    if meta.uid() != unsafe { libc::getuid() } {
        return Err(root_error(format!("socketRoot {} must be owned by the current user", dir.display())));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(root_error(format!(
            "socketRoot {} (mode {mode:04o}) is open to other users; use a directory only you can access (it is never chmod'ed)",
            dir.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_non_socket(_path: &Path) -> Result<(), SetupError> {
    Ok(())
}

#[cfg(unix)]
fn refuse_non_socket(path: &Path) -> Result<(), SetupError> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => Err(SetupError::new(
            "ERR_IPC_UNLINK_NOT_SOCKET",
            format!("{} exists and is not a socket; it is not removed", path.display()),
        )),
        _ => Ok(()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nirs-root-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn s(p: &Path) -> String {
        format!("{}/", p.display())
    }

    #[test]
    fn creates_a_missing_root_owner_only() {
        let d = scratch("create").join("inner");
        let secure = LocalRules { secure: true, create: true, ..Default::default() };
        check_local_server(&s(&d), &format!("{}/app.x", d.display()), secure).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::remove_dir_all(d.parent().unwrap()).unwrap();
    }

    #[test]
    fn refuses_an_open_root_and_leaves_its_mode() {
        let d = scratch("open");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        let secure = LocalRules { secure: true, create: true, ..Default::default() };
        let e = check_local_server(&s(&d), &format!("{}/app.x", d.display()), secure).unwrap_err();
        assert_eq!(e.code, "ERR_IPC_SOCKET_ROOT");
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o777, "never chmod'ed");
        // Not secure: accepted as it is.
        check_local_server(
            &s(&d),
            &format!("{}/app.x", d.display()),
            LocalRules { create: true, ..Default::default() },
        )
        .unwrap();
        // /tmp itself (sticky, world-writable) is never a secure root.
        assert_eq!(check_local_server("/tmp/", "/tmp/app.x", secure).unwrap_err().code, "ERR_IPC_SOCKET_ROOT");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_a_symlinked_root() {
        let d = scratch("link");
        std::fs::create_dir_all(d.join("real")).unwrap();
        std::fs::set_permissions(d.join("real"), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::symlink(d.join("real"), d.join("link")).unwrap();
        let secure = LocalRules { secure: true, ..Default::default() };
        let root = format!("{}/link/", d.display());
        let e = check_local_server(&root, &format!("{root}app.x"), secure).unwrap_err();
        assert_eq!(e.code, "ERR_IPC_SOCKET_ROOT");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn assured_needs_a_direct_child_of_a_secure_root() {
        let d = scratch("assured");
        let root = s(&d);
        let assured = LocalRules { assured: true, secure: true, create: true, refuse_non_socket: true };
        check_local_server(&root, &format!("{root}app.x"), assured).unwrap();
        let code = |p: &str, r: LocalRules| check_local_server(&root, p, r).unwrap_err().code;
        assert_eq!(code(&format!("{root}sub/app.x"), assured), "ERR_IPC_ASSURED_TRANSPORT");
        assert_eq!(code("/elsewhere/app.x", assured), "ERR_IPC_ASSURED_TRANSPORT");
        assert_eq!(code(&root, assured), "ERR_IPC_ASSURED_TRANSPORT");
        assert_eq!(code(&format!("{root}x/../../app.x"), assured), "ERR_IPC_ASSURED_TRANSPORT");
        assert_eq!(code(&format!("{root}app.x"), LocalRules { secure: false, ..assured }), "ERR_IPC_ASSURED_TRANSPORT");
        // `..` that stays inside is resolved like path.resolve.
        check_local_server(&root, &format!("{root}x/../app.y"), assured).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_to_replace_a_regular_file() {
        let d = scratch("file");
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("app.x");
        std::fs::write(&f, b"keep").unwrap();
        let r = LocalRules { refuse_non_socket: true, ..Default::default() };
        let e = check_local_server(&s(&d), &f.display().to_string(), r).unwrap_err();
        assert_eq!(e.code, "ERR_IPC_UNLINK_NOT_SOCKET");
        assert_eq!(std::fs::read(&f).unwrap(), b"keep");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn default_root_follows_node_ipc_14() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(
            v14_default_from(env(&[("XDG_RUNTIME_DIR", "/run/user/7/"), ("TMPDIR", "/t")]), 7),
            "/run/user/7/node-ipc/"
        );
        assert_eq!(v14_default_from(env(&[("XDG_RUNTIME_DIR", ""), ("TMPDIR", "/t/")]), 7), "/t/node-ipc-7/");
        assert_eq!(v14_default_from(env(&[("TMP", "/a"), ("TEMP", "/b")]), 0), "/a/node-ipc-0/");
        assert_eq!(v14_default_from(env(&[("TEMP", "/b")]), 1000), "/b/node-ipc-1000/");
        assert_eq!(v14_default_from(env(&[]), 1000), "/tmp/node-ipc-1000/");
        assert_eq!(v14_default_from(env(&[("TMPDIR", "/")]), 5), "/node-ipc-5/");
        assert!(v14_default().ends_with('/'));
    }
}
