//! The client side of `bench/broker.sh`: one tool, so Keygate and Mosquitto get the very same
//! load. MQTT 3.1.1 over TCP (rumqttc), results as one JSON line on stdout.
//!
//! ```text
//! mqtt-load connect    HOST:PORT CREDENTIALS_FILE [CONCURRENCY]   connects/s, latency p50/p99, and
//!                                                                  how many were in by each 250 ms
//! mqtt-load rtt        HOST:PORT ID USER PASS TOPIC COUNT          publish→receive p50/p99 (QoS 1)
//! mqtt-load throughput HOST:PORT ID USER PASS TOPIC COUNT          messages/s (QoS 1)
//! mqtt-load idle       HOST:PORT ID_PREFIX USER PASS COUNT         holds COUNT connections until stdin closes
//! mqtt-load storm      HOST:PORT USER SECONDS CONCURRENCY          wrong-key CONNECTs for SECONDS
//! ```
//!
//! A credentials file has one `CLIENT_IDENTIFIER USERNAME PASSWORD` per line; each line is one
//! connect (a line repeated is a reconnect with the same key).

use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Packet, QoS};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn usage() -> ! {
    eprintln!("usage: see the header of bench/mqtt-load/src/main.rs");
    std::process::exit(2)
}

fn options(addr: &str, id: &str, user: &str, pass: &str) -> MqttOptions {
    let (host, port) = addr.rsplit_once(':').unwrap_or_else(|| usage());
    let mut o = MqttOptions::new(id, host, port.parse().unwrap_or_else(|_| usage()));
    o.set_credentials(user, pass);
    o.set_keep_alive(Duration::from_secs(60));
    o.set_inflight(100);
    o
}

/// Polls until CONNACK; Ok(()) when accepted.
async fn connack(el: &mut EventLoop) -> Result<(), ConnectionError> {
    loop {
        if let Event::Incoming(Packet::ConnAck(_)) = el.poll().await? {
            return Ok(());
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One connect until its CONNACK, then a clean DISCONNECT: the latency, and whether the broker
/// accepted it.
async fn one_connect(
    addr: &str,
    id: &str,
    user: &str,
    pass: &str,
) -> Result<(Duration, bool), Error> {
    let started = Instant::now();
    let (client, mut el) = AsyncClient::new(options(addr, id, user, pass), 10);
    match connack(&mut el).await {
        Ok(()) => {}
        Err(ConnectionError::ConnectionRefused(_)) => return Ok((started.elapsed(), false)),
        Err(e) => return Err(e.into()),
    }
    let took = started.elapsed();
    client.disconnect().await?;
    // Flush the DISCONNECT, then drop the socket.
    while let Ok(event) = el.poll().await {
        if let Event::Outgoing(rumqttc::Outgoing::Disconnect) = event {
            break;
        }
    }
    Ok((took, true))
}

async fn connect(args: &[String]) -> Result<(), Error> {
    let [addr, file, rest @ ..] = args else {
        usage()
    };
    let concurrency: usize = rest.first().map(|c| c.parse().unwrap()).unwrap_or(1);
    let lines: Vec<(String, String, String)> = std::fs::read_to_string(file)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut p = l.split_whitespace().map(str::to_owned);
            (p.next().unwrap(), p.next().unwrap(), p.next().unwrap())
        })
        .collect();
    let gate = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (id, user, pass) in lines {
        let permit = gate.clone().acquire_owned().await?;
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let answer = one_connect(&addr, &id, &user, &pass).await;
            (answer, started.elapsed())
        }));
    }
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    let mut accepted_at = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (answer, at) = t.await?;
        match answer {
            Ok((d, true)) => {
                accepted.push(millis(d));
                accepted_at.push(at);
            }
            Ok((d, false)) => refused.push(millis(d)),
            Err(e) => {
                failures += 1;
                eprintln!("connect failed: {e}");
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The curve: connects accepted by the end of each 250 ms since the first was sent.
    accepted_at.sort();
    let step = Duration::from_millis(250);
    let mut curve = Vec::new();
    let mut bucket_end = step;
    let mut i = 0;
    while i < accepted_at.len() {
        while i < accepted_at.len() && accepted_at[i] <= bucket_end {
            i += 1;
        }
        curve.push(i.to_string());
        bucket_end += step;
    }
    accepted.sort_by(f64::total_cmp);
    refused.sort_by(f64::total_cmp);
    // With refusals only, the latency figures are the refusals'.
    let latencies = if accepted.is_empty() {
        &refused
    } else {
        &accepted
    };
    println!(
        "{{\"mode\":\"connect\",\"accepted\":{},\"refused\":{},\"failures\":{failures},\"seconds\":{elapsed:.3},\"per_second\":{:.1},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"accepted_by_250ms\":[{}]}}",
        accepted.len(),
        refused.len(),
        (accepted.len() + refused.len()) as f64 / elapsed,
        percentile(latencies, 50.0),
        percentile(latencies, 99.0),
        curve.join(",")
    );
    Ok(())
}

/// A subscriber and a publisher on `topic`; returns (publisher, its loop, received-count, the
/// subscriber's receive channel).
async fn pair(
    addr: &str,
    id: &str,
    user: &str,
    pass: &str,
    topic: &str,
) -> Result<(AsyncClient, tokio::sync::mpsc::UnboundedReceiver<Instant>), Error> {
    let (sub, mut sub_el) = AsyncClient::new(options(addr, &format!("{id}-sub"), user, pass), 100);
    connack(&mut sub_el).await?;
    sub.subscribe(topic, QoS::AtLeastOnce).await?;
    loop {
        if let Event::Incoming(Packet::SubAck(ack)) = sub_el.poll().await? {
            if ack
                .return_codes
                .iter()
                .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
            {
                return Err("subscription refused".into());
            }
            break;
        }
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _sub = sub;
        while let Ok(event) = sub_el.poll().await {
            if let Event::Incoming(Packet::Publish(_)) = event
                && tx.send(Instant::now()).is_err()
            {
                return;
            }
        }
    });
    let (publisher, mut pub_el) =
        AsyncClient::new(options(addr, &format!("{id}-pub"), user, pass), 1000);
    connack(&mut pub_el).await?;
    tokio::spawn(async move { while pub_el.poll().await.is_ok() {} });
    Ok((publisher, rx))
}

async fn rtt(args: &[String]) -> Result<(), Error> {
    let [addr, id, user, pass, topic, count] = args else {
        usage()
    };
    let count: usize = count.parse()?;
    let (publisher, mut received) = pair(addr, id, user, pass, topic).await?;
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + 100 {
        let sent = Instant::now();
        publisher
            .publish(topic.as_str(), QoS::AtLeastOnce, false, vec![b'x'; 64])
            .await?;
        let got = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await?
            .ok_or("subscriber gone")?;
        // The first hundred warm up the connections.
        if i >= 100 {
            samples.push(millis(got - sent));
        }
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "{{\"mode\":\"rtt\",\"messages\":{count},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
        percentile(&samples, 50.0),
        percentile(&samples, 99.0)
    );
    Ok(())
}

/// Messages a publisher may have out before the subscriber has them: enough to keep both busy,
/// few enough that neither broker's queue per subscriber (1000 by default in both) overflows.
const WINDOW: u64 = 500;

async fn throughput(args: &[String]) -> Result<(), Error> {
    let [addr, id, user, pass, topic, count] = args else {
        usage()
    };
    let count: u64 = count.parse()?;
    let (publisher, mut received) = pair(addr, id, user, pass, topic).await?;
    let got = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let producer = {
        let (topic, got) = (topic.clone(), got.clone());
        tokio::spawn(async move {
            for sent in 0..count {
                while sent - got.load(Ordering::Relaxed) >= WINDOW {
                    tokio::task::yield_now().await;
                }
                publisher
                    .publish(topic.as_str(), QoS::AtLeastOnce, false, vec![b'x'; 64])
                    .await?;
            }
            Ok::<_, rumqttc::ClientError>(publisher)
        })
    };
    let mut last = started;
    while got.load(Ordering::Relaxed) < count {
        match tokio::time::timeout(Duration::from_secs(10), received.recv()).await {
            Ok(Some(at)) => {
                got.fetch_add(1, Ordering::Relaxed);
                last = at;
            }
            _ => break,
        }
    }
    producer.abort();
    let got = got.load(Ordering::Relaxed);
    let elapsed = (last - started).as_secs_f64();
    println!(
        "{{\"mode\":\"throughput\",\"sent\":{count},\"received\":{got},\"seconds\":{elapsed:.3},\"per_second\":{:.0}}}",
        got as f64 / elapsed
    );
    Ok(())
}

async fn idle(args: &[String]) -> Result<(), Error> {
    let [addr, prefix, user, pass, count] = args else {
        usage()
    };
    let count: usize = count.parse()?;
    let gate = Arc::new(Semaphore::new(200));
    let up = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..count {
        let permit = gate.clone().acquire_owned().await?;
        let (addr, id, user, pass, up) = (
            addr.clone(),
            format!("{prefix}-{i}"),
            user.clone(),
            pass.clone(),
            up.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (client, mut el) = AsyncClient::new(options(&addr, &id, &user, &pass), 10);
            let ok = connack(&mut el).await.is_ok();
            drop(permit);
            if ok {
                up.fetch_add(1, Ordering::Relaxed);
            }
            // Keep answering keep-alives until told to stop.
            let _client = client;
            while ok && el.poll().await.is_ok() {}
        }));
    }
    while (up.load(Ordering::Relaxed) as usize) < count
        && started.elapsed() < Duration::from_secs(600)
    {
        if tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "{{\"mode\":\"idle\",\"connected\":{},\"seconds\":{:.1}}}",
        up.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    // The script measures the broker now; stdin closing says "done".
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    Ok(())
}

async fn storm(args: &[String]) -> Result<(), Error> {
    let [addr, user, seconds, concurrency] = args else {
        usage()
    };
    let until = Instant::now() + Duration::from_secs(seconds.parse()?);
    let attempts = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..concurrency.parse::<usize>()? {
        let (addr, user, attempts) = (addr.clone(), user.clone(), attempts.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while Instant::now() < until {
                let id = format!("storm-{w}-{i}");
                let (_c, mut el) =
                    AsyncClient::new(options(&addr, &id, &user, "not-the-key-0123456789"), 10);
                let _ = tokio::time::timeout(Duration::from_secs(30), connack(&mut el)).await;
                attempts.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    println!(
        "{{\"mode\":\"storm\",\"attempts\":{}}}",
        attempts.load(Ordering::Relaxed)
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        usage()
    };
    let result = match mode.as_str() {
        "connect" => connect(rest).await,
        "rtt" => rtt(rest).await,
        "throughput" => throughput(rest).await,
        "idle" => idle(rest).await,
        "storm" => storm(rest).await,
        _ => usage(),
    };
    if let Err(e) = result {
        eprintln!("mqtt-load {mode}: {e}");
        std::process::exit(1);
    }
}
