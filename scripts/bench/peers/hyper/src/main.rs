// A peer for the benchmark: hyper 0.14 + tokio (one thread, as the servers are pinned to one core)
// doing the work printerfacts does for GET /fact (see scripts/bench/ceiling.ts): the same body and
// headers from WORK_FILE, the caller's request id if short and plain else a new UUID, one JSON
// access-log line per request written to stdout in batches (100 ms or 64 KiB), and the request
// counted in a latency histogram by method, route and status. Every path is /fact. No JSON crate: the work file is parsed by hand.
use hyper::header::{HeaderName, HeaderValue};
use hyper::server::conn::Http;
use hyper::service::service_fn;
use hyper::{Body, Request, Response};
use rand::Rng;
use std::cell::RefCell;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::net::UnixListener;

const BUCKETS: [f64; 12] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

struct Answer {
    body: hyper::body::Bytes,
    headers: hyper::HeaderMap,
}

#[derive(Default)]
struct Series {
    counts: [f64; 13],
    sum: f64,
}

#[derive(Default)]
struct State {
    log: Vec<u8>,
    metrics: HashMap<String, HashMap<&'static str, HashMap<u16, Series>>>,
    facts_served: u64,
}

/// The JSON strings of the work file, in order: a tiny reader for the one shape it has.
fn json_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap_or(0xfffd)).unwrap_or('\u{fffd}'));
                    }
                    Some(other) => s.push(other),
                    None => break,
                },
                _ => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

fn in_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'=')
}

fn uuid() -> String {
    let mut b: [u8; 16] = rand::thread_rng().gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{:02x}", x)).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// ISO 8601 UTC with milliseconds, as JavaScript's toISOString() writes it.
fn iso(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap();
    let (secs, ms) = (d.as_secs() as i64, d.subsec_millis());
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, month, day, rem / 3600, rem % 3600 / 60, rem % 60, ms)
}

fn handle(req: Request<Body>, answers: &[Answer], state: &RefCell<State>) -> Response<Body> {
    let started = Instant::now();
    let wall = SystemTime::now();
    let id = match req.headers().get("x-request-id").and_then(|v| v.to_str().ok()) {
        Some(id) if plain_id(id) => id.to_string(),
        _ => uuid(),
    };
    let answer = &answers[rand::thread_rng().gen_range(0..answers.len())];
    let mut res = Response::new(Body::from(answer.body.clone()));
    *res.headers_mut() = answer.headers.clone();
    res.headers_mut().insert("x-request-id", HeaderValue::from_str(&id).unwrap());
    let seconds = started.elapsed().as_secs_f64();
    let client = req
        .headers()
        .get("x-real-ip")
        .or_else(|| req.headers().get("x-forwarded-for"))
        .and_then(|v| v.to_str().ok())
        .map(|c| format!("\"{}\"", in_json(c)))
        .unwrap_or_else(|| "null".to_string());
    let mut st = state.borrow_mut();
    let series = st
        .metrics
        .entry(req.method().as_str().to_string())
        .or_default()
        .entry("/fact")
        .or_default()
        .entry(200)
        .or_default();
    let mut b = 0;
    while b < BUCKETS.len() && seconds > BUCKETS[b] {
        b += 1;
    }
    series.counts[b] += 1.0;
    series.sum += seconds;
    st.facts_served += 1;
    let line = format!(
        "{{\"time\":\"{}\",\"method\":\"{}\",\"path\":\"{}\",\"status\":200,\"bytes\":{},\"duration_ms\":{},\"request_id\":\"{}\",\"client\":{}}}\n",
        iso(wall),
        in_json(req.method().as_str()),
        in_json(req.uri().path()),
        answer.body.len(),
        (seconds * 1e6).round() / 1000.0,
        in_json(&id),
        client
    );
    st.log.extend_from_slice(line.as_bytes());
    if st.log.len() >= 65536 {
        flush(&mut st.log);
    }
    res
}

fn flush(log: &mut Vec<u8>) {
    if !log.is_empty() {
        let _ = std::io::stdout().lock().write_all(log);
        log.clear();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let text = std::fs::read_to_string(std::env::var("WORK_FILE").expect("WORK_FILE")).unwrap();
    // The work file: {"headers":[[name,value],...],"facts":[...]}.
    let (headers_part, facts_part) = text.split_at(text.find("\"facts\"").expect("facts"));
    let pairs = json_strings(headers_part);
    let facts = json_strings(facts_part);
    let answers: Rc<Vec<Answer>> = Rc::new(
        facts[1..]
            .iter()
            .map(|fact| {
                let body = format!("{}\n", fact);
                let mut headers = hyper::HeaderMap::new();
                for kv in pairs[1..].chunks(2) {
                    headers.insert(HeaderName::from_bytes(kv[0].as_bytes()).unwrap(), HeaderValue::from_str(&kv[1]).unwrap());
                }
                headers.insert("content-length", HeaderValue::from(body.len()));
                Answer { body: body.into(), headers }
            })
            .collect(),
    );
    let state = Rc::new(RefCell::new(State::default()));
    let path = std::env::var("SOCKPATH").expect("SOCKPATH");
    let listener = UnixListener::bind(&path).unwrap();
    // SOCKMODE (octal): for nginx's workers, when they run as another user (the nginx-hyper row).
    if let Ok(mode) = std::env::var("SOCKMODE") {
        use std::os::unix::fs::PermissionsExt;
        let mode = u32::from_str_radix(&mode, 8).expect("SOCKMODE must be octal");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            let flusher = state.clone();
            tokio::task::spawn_local(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    flush(&mut flusher.borrow_mut().log);
                }
            });
            let stopper = state.clone();
            let stop_path = path.clone();
            tokio::task::spawn_local(async move {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
                term.recv().await;
                flush(&mut stopper.borrow_mut().log);
                let _ = std::fs::remove_file(stop_path);
                std::process::exit(0);
            });
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let answers = answers.clone();
                let state = state.clone();
                tokio::task::spawn_local(async move {
                    let service = service_fn(move |req| {
                        let res = handle(req, &answers, &state);
                        async move { Ok::<_, Infallible>(res) }
                    });
                    let _ = Http::new().with_executor(LocalExec).serve_connection(stream, service).await;
                });
            }
        })
        .await;
}

#[derive(Clone, Copy)]
struct LocalExec;

impl<F: std::future::Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}
