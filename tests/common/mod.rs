//! Test harness: starts real `redis-server` (or `REDIS_SERVER`) processes on free loopback
//! ports with the built module loaded, and always kills them.
#![allow(dead_code)]

use redis::{Connection, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/// The module under test: `OTP_MODULE`, else the debug build.
pub fn module_path() -> PathBuf {
    std::env::var_os("OTP_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/libredis_otp.so")
        })
}

pub fn server_binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// A fresh directory per server under the target dir, removed when the server drops.
fn fresh_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "target/test-servers/{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create server dir");
    dir
}

/// How to start a server: module arguments after `secret-file`, and extra config lines.
#[derive(Clone, Default)]
pub struct Setup {
    pub module_args: Vec<String>,
    pub config: Vec<(String, String)>,
    /// Replaces the default secret file argument (for tests of the secret itself).
    pub secret_file: Option<String>,
    pub no_module: bool,
}

impl Setup {
    pub fn new() -> Setup {
        Setup::default()
    }

    pub fn module_arg(mut self, name: &str, value: &str) -> Setup {
        self.module_args.push(name.into());
        self.module_args.push(value.into());
        self
    }

    pub fn config(mut self, name: &str, value: &str) -> Setup {
        self.config.push((name.into(), value.into()));
        self
    }
}

pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    setup: Setup,
    child: Option<Child>,
    keep_dir: bool,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(Setup::new())
    }

    pub fn start_with(setup: Setup) -> Server {
        let dir = fresh_dir();
        Server::start_in(dir, setup).unwrap_or_else(|log| panic!("server did not start:\n{log}"))
    }

    /// Starts a server and expects it to refuse to start; returns its log.
    pub fn fail_to_start(setup: Setup) -> String {
        let dir = fresh_dir();
        match Server::start_in(dir.clone(), setup) {
            Ok(server) => {
                drop(server);
                panic!("the server started, but it should have refused");
            }
            Err(log) => {
                let _ = std::fs::remove_dir_all(&dir);
                log
            }
        }
    }

    fn start_in(dir: PathBuf, setup: Setup) -> Result<Server, String> {
        let secret_path = dir.join("otp.secret");
        if !secret_path.exists() {
            std::fs::write(&secret_path, format!("{SECRET}\n")).expect("write secret");
            set_mode(&secret_path, 0o600);
        }
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut server = Server {
                port,
                dir: dir.clone(),
                setup: setup.clone(),
                child: None,
                keep_dir: false,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(log) if log.contains("Address already in use") => {
                    last_log = log;
                    server.keep_dir = true;
                }
                Err(log) => {
                    server.keep_dir = true;
                    return Err(log);
                }
            }
        }
        Err(last_log)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("redis.log")
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut args: Vec<String> = vec![
            "--port".into(),
            self.port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            self.dir.to_string_lossy().into_owned(),
            "--logfile".into(),
            self.log_path().to_string_lossy().into_owned(),
            "--save".into(),
            "".into(),
        ];
        if !self.setup.no_module {
            args.push("--loadmodule".into());
            args.push(module_path().to_string_lossy().into_owned());
            let secret = self
                .setup
                .secret_file
                .clone()
                .unwrap_or_else(|| self.dir.join("otp.secret").to_string_lossy().into_owned());
            args.push("secret-file".into());
            args.push(secret);
            args.extend(self.setup.module_args.iter().cloned());
        }
        for (name, value) in &self.setup.config {
            args.push(format!("--{name}"));
            args.push(value.clone());
        }
        let child = Command::new(server_binary())
            .args(&args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", server_binary()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    self.child = None;
                    return Err(self.log());
                }
            }
            if let Ok(mut con) = self.try_connection() {
                if redis::cmd("PING").query::<String>(&mut con).is_ok() {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Err(format!("timed out waiting for the server\n{}", self.log()))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn try_connection(&self) -> redis::RedisResult<Connection> {
        let client = redis::Client::open(self.url())?;
        client.get_connection_with_timeout(Duration::from_secs(2))
    }

    pub fn connection(&self) -> Connection {
        let con = self.try_connection().expect("connect");
        con.set_read_timeout(Some(Duration::from_secs(30))).ok();
        con
    }

    pub fn connection_resp3(&self) -> Connection {
        let client = redis::Client::open(format!("{}?protocol=resp3", self.url())).expect("client");
        client.get_connection().expect("connect resp3")
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (SHUTDOWN, so the AOF is flushed) and starts it again on the same
    /// directory and port.
    pub fn restart(&mut self) {
        if let Ok(mut con) = self.try_connection() {
            let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut con);
        }
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.spawn()
            .unwrap_or_else(|log| panic!("server did not restart:\n{log}"));
    }

    /// Starts again with another setup (same directory and port): a different module
    /// configuration, or none at all.
    pub fn restart_with(&mut self, setup: Setup) {
        self.setup = setup;
        self.restart();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if !self.keep_dir && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Runs a command and expects an error reply; returns its whole text, code first.
pub fn error_text(con: &mut Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    match cmd.query::<Value>(con) {
        Ok(value) => panic!("expected an error from {args:?}, got {value:?}"),
        Err(e) => match (e.code(), e.detail()) {
            (Some(code), Some(detail)) => format!("{code} {detail}"),
            (Some(code), None) => code.to_string(),
            _ => e.to_string(),
        },
    }
}

pub fn query<T: redis::FromRedisValue>(con: &mut Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(con)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

pub fn generate(con: &mut Connection, identity: &str) -> String {
    query(con, &["OTP.GENERATE", identity])
}

pub fn verify(con: &mut Connection, identity: &str, code: &str) -> String {
    query(con, &["OTP.VERIFY", identity, code])
}

/// OTP.STATUS as (field, value) pairs in reply order; values as text.
pub fn status(con: &mut Connection, identity: &str) -> Vec<(String, String)> {
    let reply: Value = query(con, &["OTP.STATUS", identity]);
    status_pairs(reply)
}

fn text(value: &Value) -> String {
    match value {
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        other => panic!("unexpected value {other:?}"),
    }
}

pub fn status_pairs(reply: Value) -> Vec<(String, String)> {
    match reply {
        Value::Array(items) => items
            .chunks(2)
            .map(|pair| (text(&pair[0]), text(&pair[1])))
            .collect(),
        Value::Map(pairs) => pairs.iter().map(|(k, v)| (text(k), text(v))).collect(),
        other => panic!("unexpected STATUS reply {other:?}"),
    }
}

pub fn status_field(con: &mut Connection, identity: &str, field: &str) -> i64 {
    status(con, identity)
        .into_iter()
        .find(|(name, _)| name == field)
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or_else(|| panic!("no numeric field {field}"))
}

pub fn status_state(con: &mut Connection, identity: &str) -> String {
    status(con, identity)
        .into_iter()
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value)
        .expect("state field")
}

/// One field of an INFO section, as text.
pub fn info_field(con: &mut Connection, section: &str, field: &str) -> String {
    let info: String = query(con, &["INFO", section]);
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {field} in INFO {section}:\n{info}"))
}

/// `INFO otp` counters by name (without the `otp_` prefix).
pub fn info_counter(con: &mut Connection, name: &str) -> u64 {
    let value = info_field(con, "otp", &format!("otp_{name}"));
    value
        .parse()
        .unwrap_or_else(|_| panic!("otp_{name} is not a number: {value}"))
}

/// Bytes the server has allocated (`used_memory`).
pub fn used_memory(con: &mut Connection) -> i64 {
    let value = info_field(con, "memory", "used_memory");
    value
        .parse()
        .unwrap_or_else(|_| panic!("used_memory is not a number: {value}"))
}

/// Every key in the database (SCAN).
pub fn all_keys(con: &mut Connection) -> Vec<Vec<u8>> {
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(con).expect("KEYS");
    keys
}

/// A code that is surely not `code`: same length, first digit changed.
pub fn wrong(code: &str) -> String {
    let first = if code.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &code[1..])
}
