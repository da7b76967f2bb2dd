//! `make bench`: OTP commands side by side with plain SET and a Lua script, on one
//! redis-server started here, in the same run. Prints one table of medians over several runs
//! and writes bench/results/{table.md,ops.svg}. Only ratios measured in one run mean something:
//! the machine is shared.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{query, used_memory, Server, Setup};
use redis::Connection;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

const CLIENTS: &str = "50";
const PIPELINE: &str = "16";
const KEYSPACE: &str = "100000";
const MEMORY_IDENTITIES: usize = 100_000;
const VALUE_40: &str = "0123456789012345678901234567890123456789";
/// Stand-ins for HMACs a client would compute: 32 bytes, hex.
const MAC_RIGHT: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const MAC_WRONG: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One command measured by redis-benchmark.
struct Case {
    label: &'static str,
    /// The `cmdstat_` entry of INFO commandstats that counts it.
    stat: &'static str,
    args: Vec<String>,
}

#[derive(Default, Clone)]
struct Sample {
    ops: f64,
    usec_per_call: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn redis_benchmark() -> String {
    std::env::var("REDIS_BENCHMARK").unwrap_or_else(|_| "redis-benchmark".into())
}

fn run_case(server: &Server, con: &mut Connection, case: &Case, requests: usize) -> Sample {
    let _: () = query(con, &["CONFIG", "RESETSTAT"]);
    let out = Command::new(redis_benchmark())
        .args(["-h", "127.0.0.1", "-p", &server.port.to_string()])
        .args(["-c", CLIENTS, "-P", PIPELINE, "-r", KEYSPACE])
        .args(["-n", &requests.to_string(), "--csv"])
        .args(&case.args)
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&out.stdout);
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    let row = text
        .lines()
        .rfind(|l| !l.starts_with("\"test\""))
        .unwrap_or_else(|| panic!("no result from redis-benchmark for {}: {text}", case.label));
    let fields: Vec<f64> = row
        .split("\",\"")
        .skip(1)
        .map(|f| f.trim_matches('"').parse().unwrap_or(0.0))
        .collect();
    let stats: String = query(con, &["INFO", "commandstats"]);
    let usec_per_call = stats
        .lines()
        .find(|l| l.starts_with(&format!("cmdstat_{}:", case.stat)))
        .and_then(|l| l.split("usec_per_call=").nth(1))
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Sample {
        ops: fields.first().copied().unwrap_or(0.0),
        usec_per_call,
        p50_ms: fields.get(3).copied().unwrap_or(0.0),
        p99_ms: fields.get(5).copied().unwrap_or(0.0),
    }
}

/// Bytes per key: `fill` writes MEMORY_IDENTITIES keys in pipelined batches.
fn bytes_per_key(con: &mut Connection, fill: impl Fn(&mut redis::Pipeline, usize)) -> f64 {
    let _: () = query(con, &["FLUSHALL", "SYNC"]);
    let before = used_memory(con) as f64;
    for start in (0..MEMORY_IDENTITIES).step_by(10_000) {
        let mut pipe = redis::pipe();
        for i in start..(start + 10_000).min(MEMORY_IDENTITIES) {
            fill(&mut pipe, i);
        }
        let _: () = pipe.query(con).expect("fill");
    }
    (used_memory(con) as f64 - before) / MEMORY_IDENTITIES as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn svg_chart(rows: &[(&str, f64)]) -> String {
    let max = rows.iter().map(|r| r.1).fold(1.0, f64::max);
    let (width, bar_h, left) = (720.0, 28.0, 230.0);
    let height = 50.0 + rows.len() as f64 * (bar_h + 10.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"13\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Throughput, ops/s (median; higher is better)</text>\n"
    );
    for (i, (label, ops)) in rows.iter().enumerate() {
        let y = 40.0 + i as f64 * (bar_h + 10.0);
        let w = (width - left - 110.0) * ops / max;
        let color = if label.starts_with("OTP") {
            "#c0392b"
        } else if label.starts_with("Lua") {
            "#7f8c8d"
        } else {
            "#2c3e50"
        };
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"{ty}\">{label}</text>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"{color}\"/>\
             <text x=\"{tx:.1}\" y=\"{ty}\">{ops:.0}</text>",
            ty = y + 19.0,
            tx = left + w + 6.0,
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("OTP_MODULE").is_none() {
        std::env::set_var("OTP_MODULE", root.join("target/release/libredis_otp.so"));
    }
    let runs = env_number("BENCH_RUNS", 3);
    let requests = env_number("BENCH_REQUESTS", 500_000);
    let server = Server::start_with(
        Setup::new()
            .config("otp.cooldown", "0")
            .config("otp.max-sends", "1000")
            .config("otp.attempts", "100")
            .config("otp.max-failures", "1000"),
    );
    let mut con = server.connection();
    let lua_generate: String = query(
        &mut con,
        &["SCRIPT", "LOAD", include_str!("../bench/generate.lua")],
    );
    let lua_verify: String = query(
        &mut con,
        &["SCRIPT", "LOAD", include_str!("../bench/verify.lua")],
    );
    let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    let cases = [
        Case {
            label: "SET key value EX 120",
            stat: "set",
            args: words(&format!("SET key:__rand_int__ {VALUE_40} EX 120")),
        },
        Case {
            label: "OTP.GENERATE",
            stat: "otp.generate",
            args: words("OTP.GENERATE id:__rand_int__"),
        },
        Case {
            label: "OTP.VERIFY (wrong code)",
            stat: "otp.verify",
            args: words("OTP.VERIFY id:__rand_int__ abcdef"),
        },
        Case {
            label: "OTP.VERIFY (no code)",
            stat: "otp.verify",
            args: words("OTP.VERIFY none:__rand_int__ 123456"),
        },
        Case {
            label: "Lua generate (EVALSHA)",
            stat: "evalsha",
            args: words(&format!(
                "EVALSHA {lua_generate} 1 lua:__rand_int__ {MAC_RIGHT} 120 100 0 1000 600 1000 900"
            )),
        },
        Case {
            label: "Lua verify, wrong (EVALSHA)",
            stat: "evalsha",
            args: words(&format!(
                "EVALSHA {lua_verify} 1 lua:__rand_int__ {MAC_WRONG} 1000 900"
            )),
        },
    ];

    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); cases.len()];
    let (mut otp_bytes, mut plain_bytes) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        eprintln!("run {run}/{runs}");
        let _: () = query(&mut con, &["FLUSHALL", "SYNC"]);
        for (case, out) in cases.iter().zip(samples.iter_mut()) {
            out.push(run_case(&server, &mut con, case, requests));
        }
        otp_bytes.push(bytes_per_key(&mut con, |pipe, i| {
            pipe.cmd("OTP.GENERATE")
                .arg(format!("+1555{i:07}"))
                .ignore();
        }));
        plain_bytes.push(bytes_per_key(&mut con, |pipe, i| {
            pipe.cmd("SET")
                .arg(format!("key:{i:012}"))
                .arg(VALUE_40)
                .arg("PX")
                .arg(120_000)
                .ignore();
        }));
    }

    let med: Vec<Sample> = samples
        .iter()
        .map(|s| Sample {
            ops: median(s.iter().map(|x| x.ops).collect()),
            usec_per_call: median(s.iter().map(|x| x.usec_per_call).collect()),
            p50_ms: median(s.iter().map(|x| x.p50_ms).collect()),
            p99_ms: median(s.iter().map(|x| x.p99_ms).collect()),
        })
        .collect();
    let (otp_b, plain_b) = (median(otp_bytes), median(plain_bytes));
    let set = &med[0];
    let version: String = query(&mut con, &["INFO", "server"]);
    let version = version
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());

    let mut table = String::new();
    let _ = writeln!(
        table,
        "Redis {version}, {cores} cores; redis-benchmark -c {CLIENTS} -P {PIPELINE} -r {KEYSPACE} -n {requests}; median of {runs} runs.\n"
    );
    let _ = writeln!(
        table,
        "| command | ops/s | vs SET | µs/call | vs SET | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for (case, m) in cases.iter().zip(&med) {
        let _ = writeln!(
            table,
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.3} | {:.3} |",
            case.label,
            m.ops,
            m.ops / set.ops,
            m.usec_per_call,
            m.usec_per_call / set.usec_per_call,
            m.p50_ms,
            m.p99_ms
        );
    }
    let _ = writeln!(
        table,
        "\n| memory per identity with a pending code | bytes | vs plain key |\n|---|---:|---:|\n\
         | OTP record | {otp_b:.1} | {:.2} |\n| `SET key:<12 digits> <40 bytes> PX 120000` | {plain_b:.1} | 1.00 |",
        otp_b / plain_b
    );
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let _ = writeln!(table, "\n| target | measured | |\n|---|---:|---|");
    for (i, name) in [(1, "OTP.GENERATE"), (2, "OTP.VERIFY (wrong code)")] {
        let ops = med[i].ops / set.ops;
        let usec = med[i].usec_per_call / set.usec_per_call;
        let lua = med[i].ops / med[if i == 1 { 4 } else { 5 }].ops;
        let _ = writeln!(
            table,
            "| {name}: ≥ 0.85× SET ops/s | {ops:.2}× | {} |\n| {name}: ≤ 1.3× SET µs/call | {usec:.2}× | {} |\n| {name}: ≥ 1.5× Lua ops/s | {lua:.2}× | {} |",
            verdict(ops >= 0.85),
            verdict(usec <= 1.3),
            verdict(lua >= 1.5)
        );
    }
    let _ = writeln!(
        table,
        "| bytes per identity ≤ 1.1× plain key | {:.2}× | {} |",
        otp_b / plain_b,
        verdict(otp_b / plain_b <= 1.1)
    );
    println!("\n{table}");

    let results = root.join("bench/results");
    std::fs::create_dir_all(&results).expect("results dir");
    std::fs::write(results.join("table.md"), &table).expect("write table");
    let chart: Vec<(&str, f64)> = cases
        .iter()
        .zip(&med)
        .map(|(c, m)| (c.label, m.ops))
        .collect();
    std::fs::write(results.join("ops.svg"), svg_chart(&chart)).expect("write chart");
    println!("wrote bench/results/table.md and bench/results/ops.svg");
}
