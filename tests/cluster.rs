//! Redis Cluster: three primaries made with `redis-cli --cluster create`, driven by the
//! `redis` crate's cluster client.

mod common;

use common::*;
use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Connection, Value};
use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

fn cluster_node() -> Server {
    Server::start_with(
        Setup::new()
            .config("cluster-enabled", "yes")
            .config("cluster-config-file", "nodes.conf")
            .config("cluster-node-timeout", "5000")
            .config("otp.cooldown", "0")
            .config("otp.max-sends", "1000"),
    )
}

fn redis_cli() -> String {
    std::env::var("REDIS_CLI").unwrap_or_else(|_| "redis-cli".into())
}

fn start_cluster() -> Vec<Server> {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    let mut args = vec!["--cluster".to_string(), "create".into()];
    args.extend(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
    args.push("--cluster-yes".into());
    let out = Command::new(redis_cli())
        .args(&args)
        .output()
        .expect("run redis-cli --cluster create");
    assert!(
        out.status.success(),
        "cluster create failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    for node in &nodes {
        let mut con = node.connection();
        loop {
            let info: String = query(&mut con, &["CLUSTER", "INFO"]);
            if info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3") {
                break;
            }
            assert!(Instant::now() < deadline, "cluster not ready:\n{info}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    nodes
}

fn cluster_connection(nodes: &[Server]) -> ClusterConnection {
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    ClusterClient::new(urls)
        .expect("cluster client")
        .get_connection()
        .expect("cluster connection")
}

/// Slot -> port of the node that owns it, from CLUSTER SLOTS.
fn slot_owners(con: &mut Connection) -> HashMap<u16, u16> {
    let slots: Value = query(con, &["CLUSTER", "SLOTS"]);
    let mut owners = HashMap::new();
    let Value::Array(ranges) = slots else {
        panic!("CLUSTER SLOTS: {slots:?}")
    };
    for range in ranges {
        let Value::Array(parts) = range else { continue };
        let (Value::Int(start), Value::Int(end), Value::Array(primary)) =
            (&parts[0], &parts[1], &parts[2])
        else {
            panic!("CLUSTER SLOTS entry: {parts:?}")
        };
        let Value::Int(port) = primary[1] else {
            panic!("port: {primary:?}")
        };
        for slot in *start..=*end {
            owners.insert(slot as u16, port as u16);
        }
    }
    owners
}

fn keyslot(con: &mut Connection, key: &[u8]) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query::<i64>(con)
        .expect("KEYSLOT") as u16
}

fn otp(cluster: &mut ClusterConnection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(cluster)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

#[test]
fn identities_live_on_the_node_that_owns_their_slot() {
    let nodes = start_cluster();
    let mut cluster = cluster_connection(&nodes);
    let mut first = nodes[0].connection();
    let owners = slot_owners(&mut first);
    assert_eq!(owners.len(), 16384);

    let identities: Vec<String> = (0..1000).map(|i| format!("+1555{i:07}")).collect();
    let mut codes = Vec::new();
    for identity in &identities {
        codes.push(otp(&mut cluster, &["OTP.GENERATE", identity]));
    }

    // Every stored key sits on a node that owns its slot, and the keys' slots are exactly
    // the identities' slots.
    let mut identity_slots: Vec<u16> = identities
        .iter()
        .map(|id| keyslot(&mut first, id.as_bytes()))
        .collect();
    let mut key_slots = Vec::new();
    for node in &nodes {
        let mut con = node.connection();
        for key in all_keys(&mut con) {
            let slot = keyslot(&mut con, &key);
            assert_eq!(
                owners[&slot], node.port,
                "key in slot {slot} on the wrong node"
            );
            key_slots.push(slot);
        }
    }
    identity_slots.sort_unstable();
    key_slots.sort_unstable();
    assert_eq!(key_slots, identity_slots);

    for (identity, code) in identities.iter().zip(&codes) {
        assert_eq!(otp(&mut cluster, &["OTP.VERIFY", identity, code]), "VALID");
    }
    for identity in identities.iter().take(50) {
        let code = otp(&mut cluster, &["OTP.GENERATE", identity]);
        assert_eq!(
            otp(&mut cluster, &["OTP.VERIFY", identity, &wrong(&code)]),
            "INVALID"
        );
    }
}

#[test]
fn codes_verify_after_their_slot_moves() {
    let nodes = start_cluster();
    let mut cluster = cluster_connection(&nodes);
    let mut first = nodes[0].connection();
    let identities: Vec<String> = (0..5).map(|i| format!("{{moving}}user{i}")).collect();
    let codes: Vec<String> = identities
        .iter()
        .map(|id| otp(&mut cluster, &["OTP.GENERATE", id]))
        .collect();

    let slot = keyslot(&mut first, b"moving");
    let owners = slot_owners(&mut first);
    let source = nodes.iter().find(|n| n.port == owners[&slot]).unwrap();
    let target = nodes.iter().find(|n| n.port != source.port).unwrap();
    let (mut src, mut dst) = (source.connection(), target.connection());
    let src_id: String = query(&mut src, &["CLUSTER", "MYID"]);
    let dst_id: String = query(&mut dst, &["CLUSTER", "MYID"]);
    let slot_arg = slot.to_string();

    let _: () = query(
        &mut dst,
        &["CLUSTER", "SETSLOT", &slot_arg, "IMPORTING", &src_id],
    );
    let _: () = query(
        &mut src,
        &["CLUSTER", "SETSLOT", &slot_arg, "MIGRATING", &dst_id],
    );
    let keys: Vec<Vec<u8>> = redis::cmd("CLUSTER")
        .arg("GETKEYSINSLOT")
        .arg(slot)
        .arg(100)
        .query(&mut src)
        .unwrap();
    assert_eq!(
        keys.len(),
        identities.len(),
        "one key per identity in the slot"
    );
    let mut migrate = redis::cmd("MIGRATE");
    migrate
        .arg("127.0.0.1")
        .arg(target.port)
        .arg("")
        .arg(0)
        .arg(5000)
        .arg("KEYS");
    for key in &keys {
        migrate.arg(key);
    }
    let _: () = migrate.query(&mut src).expect("MIGRATE");
    for node in &nodes {
        let mut con = node.connection();
        let _: () = query(
            &mut con,
            &["CLUSTER", "SETSLOT", &slot_arg, "NODE", &dst_id],
        );
    }
    assert!(all_keys(&mut src).is_empty(), "the keys left the source");
    assert_eq!(all_keys(&mut dst).len(), identities.len());

    let mut fresh = cluster_connection(&nodes);
    for (identity, code) in identities.iter().zip(&codes) {
        assert_eq!(otp(&mut fresh, &["OTP.VERIFY", identity, code]), "VALID");
    }
}
