//! Does the time a sign-in takes tell whether an email belongs to the clinic? Signs in, over
//! and over and in turn, with a wrong password for a real account and with an email no one
//! has, against a real server on loopback with production password hashing, and prints the
//! median and the spread of each with their ratio. The limits on wrong passwords are lifted for
//! the run (they would answer 429 long before the figures settle).
//!
//! ```sh
//! cargo run --release -p frontdesk-server --example sign_in_timing -- [ROUNDS]
//! ```

use frontdesk_server::admin::{NewStaff, create_staff};
use frontdesk_server::demo::DEMO_SLUG;
use frontdesk_server::{HashCost, Settings};
use frontdesk_testkit::TestServer;
use std::io::Write;
use std::time::{Duration, Instant};

/// A member of staff with a password hashed as production hashes it.
const KNOWN: &str = "known@demo.clinic";

fn settings(s: &mut Settings) {
    s.hash_cost = HashCost::Standard;
    s.sign_in_failures_per_minute = usize::MAX / 2;
    s.sign_in_failures_per_ip_per_minute = usize::MAX / 2;
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn wrong_password(client: &reqwest::Client, url: &str, email: &str) -> Duration {
    let body = serde_json::json!({ "clinic": DEMO_SLUG, "email": email, "password": "not-it" });
    let started = Instant::now();
    let res = client.post(url).json(&body).send().await.expect("answered");
    let took = started.elapsed();
    assert_eq!(res.status(), 401, "a wrong sign-in for {email} is refused");
    took
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(40);
    let server = TestServer::builder()
        .demo_clinic()
        .settings(settings)
        .start()
        .await;
    // Built from JSON, as the API takes it, so the fields not given keep their defaults.
    let new: NewStaff = serde_json::from_value(serde_json::json!({
        "name": "Known Person",
        "email": KNOWN,
        "roles": ["receptionist"],
        "password": "the-right-password",
    }))?;
    create_staff(
        server.server().store(),
        server.demo().clinic.id,
        new,
        HashCost::Standard,
        server.clock().now(),
    )
    .await?;

    let client = reqwest::Client::new();
    let url = server.url("/v1/auth/sign-in");
    // One of each first: the checks' threads and their memory are set up by then.
    wrong_password(&client, &url, KNOWN).await;
    wrong_password(&client, &url, "warm@nowhere.example").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        known.push(wrong_password(&client, &url, KNOWN).await);
        unknown.push(wrong_password(&client, &url, &format!("nobody{i}@nowhere.example")).await);
    }
    known.sort();
    unknown.sort();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "sign-in with a wrong password, {rounds} rounds each, in turn:"
    )?;
    for (what, times) in [("known email", &known), ("unknown email", &unknown)] {
        writeln!(
            out,
            "  {what:<14} median {:>7.1} ms   p10 {:>7.1} ms   p90 {:>7.1} ms",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.1)),
            ms(percentile(times, 0.9)),
        )?;
    }
    writeln!(
        out,
        "  unknown / known median: {:.3}",
        ms(percentile(&unknown, 0.5)) / ms(percentile(&known, 0.5))
    )?;
    Ok(())
}
