//! Configuration: CONFIG GET/SET, loadmodule arguments, redis.conf lines, the secret file.

mod common;

use common::*;

fn config_get(con: &mut redis::Connection, name: &str) -> String {
    let pair: Vec<String> = query(con, &["CONFIG", "GET", name]);
    assert_eq!(pair.len(), 2, "CONFIG GET {name}: {pair:?}");
    pair[1].clone()
}

#[test]
fn defaults_are_visible_with_config_get() {
    let server = Server::start();
    let mut con = server.connection();
    for (name, value) in [
        ("otp.digits", "6"),
        ("otp.ttl", "120"),
        ("otp.attempts", "3"),
        ("otp.cooldown", "60"),
        ("otp.max-sends", "5"),
        ("otp.send-window", "600"),
        ("otp.max-failures", "10"),
        ("otp.lockout", "900"),
        ("otp.key-prefix", "otp:"),
    ] {
        assert_eq!(config_get(&mut con, name), value, "{name}");
    }
    let all: Vec<String> = query(&mut con, &["CONFIG", "GET", "otp.*"]);
    assert_eq!(all.len(), 20, "{all:?}");
}

#[test]
fn config_set_applies_at_once_and_checks_ranges() {
    let server = Server::start();
    let mut con = server.connection();
    let _: () = query(
        &mut con,
        &["CONFIG", "SET", "otp.digits", "8", "otp.ttl", "30"],
    );
    let code = generate(&mut con, "alice");
    assert_eq!(code.len(), 8);
    assert_eq!(status_field(&mut con, "alice", "ttl"), 30);
    for (name, value, range) in [
        ("otp.digits", "3", "between 4 and 10, got 3"),
        ("otp.ttl", "0", "between 1 and 86400, got 0"),
        ("otp.attempts", "101", "between 1 and 100, got 101"),
        ("otp.cooldown", "-1", "between 0 and 86400, got -1"),
        ("otp.max-sends", "0", "between 1 and 1000, got 0"),
        ("otp.send-window", "86401", "between 1 and 86400, got 86401"),
        ("otp.max-failures", "1001", "between 1 and 1000, got 1001"),
        ("otp.lockout", "0", "between 1 and 86400, got 0"),
    ] {
        let text = error_text(&mut con, &["CONFIG", "SET", name, value]);
        assert!(text.contains(&format!("{name} must be {range}")), "{text}");
    }
    assert_eq!(
        config_get(&mut con, "otp.digits"),
        "8",
        "a refused SET changes nothing"
    );
    for name in ["otp.key-prefix", "otp.secret-file"] {
        let text = error_text(&mut con, &["CONFIG", "SET", name, "x"]);
        assert!(text.contains("immutable"), "{text}");
    }
}

#[test]
fn loadmodule_arguments_set_configs() {
    let server = Server::start_with(
        Setup::new()
            .module_arg("digits", "8")
            .module_arg("otp.ttl", "30")
            .module_arg("key-prefix", "app:otp:"),
    );
    let mut con = server.connection();
    assert_eq!(config_get(&mut con, "otp.digits"), "8");
    assert_eq!(config_get(&mut con, "otp.ttl"), "30");
    assert_eq!(config_get(&mut con, "otp.key-prefix"), "app:otp:");
    assert_eq!(generate(&mut con, "alice").len(), 8);
    let key = String::from_utf8(all_keys(&mut con).remove(0)).unwrap();
    assert!(key.starts_with("app:otp:{"), "{key}");
}

#[test]
fn redis_conf_lines_set_configs() {
    let server = Server::start_with(
        Setup::new()
            .config("otp.digits", "9")
            .config("otp.max-failures", "7"),
    );
    let mut con = server.connection();
    assert_eq!(config_get(&mut con, "otp.digits"), "9");
    assert_eq!(config_get(&mut con, "otp.max-failures"), "7");
}

#[test]
fn bad_load_arguments_refuse_the_load_naming_the_setting() {
    for (setup, expected) in [
        (
            Setup::new().module_arg("digits", "3"),
            "otp.digits must be between 4 and 10, got 3",
        ),
        (
            Setup::new().module_arg("lockout", "0"),
            "otp.lockout must be between 1 and 86400, got 0",
        ),
        (
            Setup::new().module_arg("ttl", "abc"),
            "otp.ttl must be an integer",
        ),
        (
            Setup::new().module_arg("colour", "red"),
            "unknown loadmodule argument 'colour'",
        ),
        (
            Setup::new().module_arg("key-prefix", "a{b}"),
            "otp.key-prefix must be at most 64 bytes with no braces",
        ),
        (
            Setup {
                module_args: vec!["digits".into()],
                ..Setup::new()
            },
            "loadmodule argument 'digits' has no value",
        ),
        // An out-of-range redis.conf line also stops the load, and does not hide the
        // lines after it.
        (
            Setup::new()
                .config("otp.digits", "3")
                .config("otp.ttl", "30"),
            "otp.digits must be between 4 and 10, got 3",
        ),
        (
            Setup::new().config("otp.ttl", "abc"),
            "configuration otp.ttl",
        ),
    ] {
        let log = Server::fail_to_start(setup);
        assert!(log.contains(expected), "expected {expected:?} in:\n{log}");
    }
}

#[test]
fn secret_file_problems_refuse_the_load() {
    let dir = std::env::temp_dir().join(format!("otp-secret-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let short = dir.join("short.secret");
    std::fs::write(&short, "only-twenty-bytes-xx\n").unwrap();
    set_mode(&short, 0o600);
    let unreadable = dir.join("dir-not-file");
    std::fs::create_dir_all(&unreadable).unwrap();
    for (path, expected) in [
        (
            "/nonexistent/otp.secret".to_string(),
            "cannot read otp.secret-file '/nonexistent/otp.secret'",
        ),
        (
            short.to_string_lossy().into_owned(),
            "is too short: the secret is 20 bytes, it must be at least 32",
        ),
        (
            unreadable.to_string_lossy().into_owned(),
            "cannot read otp.secret-file",
        ),
        (String::new(), "otp.secret-file is not set"),
    ] {
        let setup = Setup {
            secret_file: Some(path),
            ..Setup::new()
        };
        let log = Server::fail_to_start(setup);
        assert!(log.contains(expected), "expected {expected:?} in:\n{log}");
        assert!(
            !log.contains("only-twenty-bytes"),
            "the secret leaked into the log"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn module_load_at_runtime_fails_with_a_bad_secret() {
    let server = Server::start_with(Setup {
        no_module: true,
        ..Setup::new().config("enable-module-command", "yes")
    });
    let mut con = server.connection();
    let module = module_path().to_string_lossy().into_owned();
    let text = error_text(
        &mut con,
        &[
            "MODULE",
            "LOAD",
            &module,
            "secret-file",
            "/nonexistent/otp.secret",
        ],
    );
    assert!(text.starts_with("ERR"), "{text}");
    assert!(server
        .log()
        .contains("cannot read otp.secret-file '/nonexistent/otp.secret'"));
    let secret = server.dir.join("otp.secret").to_string_lossy().into_owned();
    let _: () = query(
        &mut con,
        &["MODULE", "LOAD", &module, "secret-file", &secret],
    );
    assert_eq!(generate(&mut con, "alice").len(), 6);
}

#[test]
fn readable_secret_file_is_warned_about() {
    let mut server = Server::start();
    assert!(!server.log().contains("readable by group or others"));
    set_mode(&server.dir.join("otp.secret"), 0o644);
    server.restart();
    assert!(server
        .log()
        .contains("has mode 644: it is readable by group or others"));
}

#[test]
fn the_secret_never_shows() {
    let server = Server::start_with(Setup::new().config("loglevel", "debug"));
    let mut con = server.connection();
    let code = generate(&mut con, "alice");
    verify(&mut con, "alice", &code);
    let mut seen = String::new();
    let config: Vec<String> = query(&mut con, &["CONFIG", "GET", "*"]);
    seen.push_str(&config.join("\n"));
    let info: String = query(&mut con, &["INFO", "everything"]);
    seen.push_str(&info);
    let modules: redis::Value = query(&mut con, &["MODULE", "LIST"]);
    seen.push_str(&format!("{modules:?}"));
    seen.push_str(&server.log());
    assert!(seen.contains("otp.secret"), "the path may show");
    assert!(!seen.contains(SECRET), "the secret showed");
}
