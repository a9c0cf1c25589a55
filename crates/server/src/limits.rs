//! How much anonymous or unproven work one client may ask for: sign-in attempts per account and
//! per address, arrivals per address and per room, intake updates per address and per visit.
//! Each is a budget of attempts per minute, by the server's clock (so a test can move past a
//! lockout without sleeping). An attempt is taken from its budgets *before* the work is done,
//! all budgets or none at once, so a burst of concurrent requests cannot overdraw one; a
//! sign-in that turns out right gives its attempt back.
//!
//! The budgets live behind [`AttemptBudgets`]: this process keeps them in memory
//! ([`MemoryBudgets`]); several replicas will need one kept in the database, with the same
//! two calls.

use crate::error::AppError;
use crate::state::AppState;
use crate::state::Settings;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use frontdesk_domain::{Span, Timestamp};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every budget counts attempts over the last minute.
pub const WINDOW: Span = Span::from_secs(60);

/// The client's address, when the server knows it (budgets per address key on it): the TCP
/// peer, or, when the peer is a trusted proxy, the address its `X-Forwarded-For` names.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Ok(Self("unknown".to_owned()));
        };
        let ip = client_ip(peer, &parts.headers, &state.settings.trusted_proxies);
        Ok(Self(ip.to_string()))
    }
}

/// A proxy the server trusts to say who its client is: one address or a CIDR range
/// (`10.0.0.0/8`, `::1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedProxy {
    net: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an IP address or CIDR range (such as 10.0.0.0/8)");
        let (ip, prefix) = s
            .trim()
            .split_once('/')
            .map_or((s.trim(), None), |(a, p)| (a, Some(p)));
        let net: IpAddr = ip.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(Self { net, prefix })
    }
}

impl TrustedProxy {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let bits = |ip: IpAddr| match ip {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        };
        let ((net, width), (addr, addr_width)) = (bits(self.net), bits(ip));
        if width != addr_width {
            return false;
        }
        let host_bits = u32::from(width - self.prefix);
        net.checked_shr(host_bits) == addr.checked_shr(host_bits)
    }
}

/// Who the client is: the peer itself unless it is a trusted proxy; then, reading
/// `X-Forwarded-For` from the right (the hop nearest us first), the first address that is not
/// itself a trusted proxy. A list a proxy could not have written is not believed past its
/// last good address.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// One kind of budget: how many attempts a key gets per [`WINDOW`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Keeps the kinds apart (an address has a sign-in budget and an arrivals budget).
    pub kind: &'static str,
    /// What is refused, for the message: "too many {what}".
    pub what: &'static str,
    pub per_minute: usize,
}

impl Budget {
    /// A budget of `usize::MAX` a minute (a limit switched off, as a load test sets the front
    /// door's) counts nothing: no attempt is kept for it.
    pub fn is_unbounded(&self) -> bool {
        self.per_minute == usize::MAX
    }
}

/// The charges whose budgets count.
pub fn bounded(charges: Vec<Charge>) -> Vec<Charge> {
    charges
        .into_iter()
        .filter(|c| !c.budget.is_unbounded())
        .collect()
}

/// One attempt to take from `budget` for `key` (an email, an address, a room).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub budget: Budget,
    pub key: String,
}

impl Charge {
    pub fn new(budget: Budget, key: impl Into<String>) -> Self {
        Self {
            budget,
            key: key.into(),
        }
    }
}

/// What [`AttemptBudgets::reserve`] took; hand it back to [`AttemptBudgets::release`] to undo.
#[derive(Debug)]
pub struct Reservation {
    charges: Vec<Charge>,
    at: Timestamp,
}

impl Reservation {
    /// `charges` taken at `at` (for an [`AttemptBudgets`] to hand out).
    pub fn new(charges: Vec<Charge>, at: Timestamp) -> Self {
        Self { charges, at }
    }

    pub fn charges(&self) -> &[Charge] {
        &self.charges
    }

    pub fn at(&self) -> Timestamp {
        self.at
    }
}

/// Where the budgets are kept.
#[async_trait::async_trait]
pub trait AttemptBudgets: Send + Sync + std::fmt::Debug {
    /// Takes one attempt from every charge's budget at `now`, or none when any is spent:
    /// then [`AppError::RateLimited`] says when the first of them has room again.
    async fn reserve(&self, charges: Vec<Charge>, now: Timestamp) -> Result<Reservation, AppError>;

    /// Gives back what `reserve` took.
    async fn release(&self, reservation: Reservation);
}

/// The budgets in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryBudgets {
    spent: Mutex<Spent>,
}

#[derive(Debug, Default)]
struct Spent {
    /// Times of the attempts still inside the window, oldest first, per (kind, key).
    attempts: HashMap<(&'static str, String), VecDeque<Timestamp>>,
    /// Size at which the next sweep of stale keys runs.
    sweep_at: usize,
}

/// Below this many keys, stale ones are not worth a sweep.
const SWEEP_FROM: usize = 10_000;

impl Spent {
    fn forget_stale(queue: &mut VecDeque<Timestamp>, now: Timestamp) {
        while queue.front().is_some_and(|at| *at + WINDOW <= now) {
            queue.pop_front();
        }
    }

    /// Drops keys with nothing left in the window. Run when the map has doubled since the last
    /// sweep, so a flood of fresh keys costs amortised constant time per attempt.
    fn sweep(&mut self, now: Timestamp) {
        if self.attempts.len() < self.sweep_at.max(SWEEP_FROM) {
            return;
        }
        self.attempts.retain(|_, q| {
            Self::forget_stale(q, now);
            !q.is_empty()
        });
        self.sweep_at = self.attempts.len() * 2;
    }
}

/// Rounded up to whole seconds and at least one, as `Retry-After` says it.
pub fn wait_until(at: Timestamp, now: Timestamp) -> Duration {
    let ms = at.since(now).as_millis().max(0) as u64;
    Duration::from_secs(ms.div_ceil(1000).max(1))
}

#[async_trait::async_trait]
impl AttemptBudgets for MemoryBudgets {
    async fn reserve(&self, charges: Vec<Charge>, now: Timestamp) -> Result<Reservation, AppError> {
        let charges = bounded(charges);
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        spent.sweep(now);
        // The refusal names the budget that frees up last: before then, a retry is refused too.
        let mut refused: Option<(&'static str, Duration)> = None;
        for c in &charges {
            let Some(queue) = spent.attempts.get_mut(&(c.budget.kind, c.key.clone())) else {
                continue;
            };
            Spent::forget_stale(queue, now);
            if queue.len() >= c.budget.per_minute {
                let oldest = queue.front().copied().unwrap_or(now);
                let wait = wait_until(oldest + WINDOW, now);
                if refused.is_none_or(|(_, w)| wait > w) {
                    refused = Some((c.budget.what, wait));
                }
            }
        }
        if let Some((what, retry_after)) = refused {
            return Err(AppError::RateLimited { what, retry_after });
        }
        for c in &charges {
            spent
                .attempts
                .entry((c.budget.kind, c.key.clone()))
                .or_default()
                .push_back(now);
        }
        Ok(Reservation { charges, at: now })
    }

    async fn release(&self, reservation: Reservation) {
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for c in reservation.charges {
            if let Some(queue) = spent.attempts.get_mut(&(c.budget.kind, c.key))
                && let Some(i) = queue.iter().rposition(|at| *at == reservation.at)
            {
                queue.remove(i);
            }
        }
    }
}

/// The server's budgets as its settings size them, and the charges each kind of request makes.
#[derive(Debug)]
pub struct Limits {
    budgets: Arc<dyn AttemptBudgets>,
    sign_in_per_account: Budget,
    sign_in_per_address: Budget,
    arrivals_per_address: Budget,
    arrivals_per_room: Budget,
    intake_per_address: Budget,
    intake_per_visit: Budget,
}

impl Limits {
    pub fn new(budgets: Arc<dyn AttemptBudgets>, settings: &Settings) -> Self {
        let budget = |kind, what, per_minute| Budget {
            kind,
            what,
            per_minute,
        };
        let sign_ins = "sign-in attempts";
        Self {
            budgets,
            sign_in_per_account: budget(
                "sign_in_account",
                sign_ins,
                settings.sign_in_failures_per_minute,
            ),
            sign_in_per_address: budget(
                "sign_in_address",
                sign_ins,
                settings.sign_in_failures_per_ip_per_minute,
            ),
            arrivals_per_address: budget(
                "arrival_address",
                "arrivals from this address",
                settings.arrivals_per_address_per_minute,
            ),
            arrivals_per_room: budget(
                "arrival_room",
                "arrivals in this room",
                settings.arrivals_per_room_per_minute,
            ),
            intake_per_address: budget(
                "intake_address",
                "intake updates from this address",
                settings.intake_updates_per_address_per_minute,
            ),
            intake_per_visit: budget(
                "intake_visit",
                "intake updates for this visit",
                settings.intake_updates_per_visit_per_minute,
            ),
        }
    }

    /// One sign-in attempt (password or PIN) for `account` (clinic or station, and email) from
    /// `from`, counted as a failure until [`Limits::release`] says it was right.
    pub async fn sign_in(
        &self,
        account: String,
        from: &ClientAddr,
        now: Timestamp,
    ) -> Result<Reservation, AppError> {
        let charges = vec![
            Charge::new(self.sign_in_per_account, account),
            Charge::new(self.sign_in_per_address, from.0.clone()),
        ];
        self.budgets.reserve(charges, now).await
    }

    /// The sign-in was right: it does not count against anyone.
    pub async fn release(&self, reservation: Reservation) {
        self.budgets.release(reservation).await;
    }

    /// A patient arriving (or asking for a provider) in `room` from `from`.
    pub async fn arrival(
        &self,
        from: &ClientAddr,
        room: impl std::fmt::Display,
        now: Timestamp,
    ) -> Result<(), AppError> {
        let charges = vec![
            Charge::new(self.arrivals_per_address, from.0.clone()),
            Charge::new(self.arrivals_per_room, room.to_string()),
        ];
        self.budgets.reserve(charges, now).await.map(drop)
    }

    /// A patient saving intake answers for `visit` from `from`.
    pub async fn intake_update(
        &self,
        from: &ClientAddr,
        visit: impl std::fmt::Display,
        now: Timestamp,
    ) -> Result<(), AppError> {
        let charges = vec![
            Charge::new(self.intake_per_address, from.0.clone()),
            Charge::new(self.intake_per_visit, visit.to_string()),
        ];
        self.budgets.reserve(charges, now).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let trusted: Vec<TrustedProxy> =
            vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "198.51.100.9, 203.0.113.7, 10.1.2.3".parse().unwrap(),
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.7"));
        assert_eq!(client_ip(ip("192.0.2.1"), &h, &trusted), ip("192.0.2.1"));
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("203.0.113.7")
        );
        h.insert("x-forwarded-for", "junk, 10.0.0.5".parse().unwrap());
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("10.0.0.5"));
        assert!("10.0.0.0/33".parse::<TrustedProxy>().is_err());
        assert!(
            "::/0"
                .parse::<TrustedProxy>()
                .unwrap()
                .contains(ip("2001:db8::1"))
        );
        assert!(
            "0.0.0.0/0"
                .parse::<TrustedProxy>()
                .unwrap()
                .contains(ip("192.0.2.1"))
        );
    }

    const THREE: Budget = Budget {
        kind: "test",
        what: "tries",
        per_minute: 3,
    };

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(1_000_000_000_000 + secs * 1000)
    }

    #[tokio::test]
    async fn a_spent_budget_refuses_until_its_oldest_attempt_leaves_the_window() {
        let b = MemoryBudgets::default();
        let a = || vec![Charge::new(THREE, "a")];
        for s in 0..3 {
            b.reserve(a(), at(s)).await.unwrap();
        }
        match b.reserve(a(), at(10)).await {
            Err(AppError::RateLimited { retry_after, .. }) => {
                assert_eq!(retry_after, Duration::from_secs(50));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(
            b.reserve(vec![Charge::new(THREE, "b")], at(10))
                .await
                .is_ok()
        );
        assert!(b.reserve(a(), at(60)).await.is_ok(), "the first one left");
    }

    #[tokio::test]
    async fn an_unbounded_budget_keeps_no_attempts_beside_a_counted_one() {
        let off = Budget {
            per_minute: usize::MAX,
            ..THREE
        };
        let b = MemoryBudgets::default();
        let both = || vec![Charge::new(off, "room"), Charge::new(THREE, "a")];
        let taken = b.reserve(both(), at(0)).await.unwrap();
        assert_eq!(taken.charges(), [Charge::new(THREE, "a")]);
        for s in 1..3 {
            b.reserve(both(), at(s)).await.unwrap();
        }
        assert!(
            b.reserve(both(), at(3)).await.is_err(),
            "the counted one is spent"
        );
        let spent = b.spent.lock().unwrap();
        assert!(spent.attempts.keys().all(|(_, key)| key == "a"));
    }

    #[tokio::test]
    async fn all_charges_or_none_and_a_release_gives_the_attempt_back() {
        let b = MemoryBudgets::default();
        for s in 0..3 {
            b.reserve(vec![Charge::new(THREE, "full")], at(s))
                .await
                .unwrap();
        }
        let both = || vec![Charge::new(THREE, "free"), Charge::new(THREE, "full")];
        assert!(b.reserve(both(), at(5)).await.is_err());
        // The refused attempt took nothing from "free".
        for s in 0..2 {
            b.reserve(vec![Charge::new(THREE, "free")], at(5 + s))
                .await
                .unwrap();
        }
        let third = b
            .reserve(vec![Charge::new(THREE, "free")], at(8))
            .await
            .unwrap();
        b.release(third).await;
        assert!(
            b.reserve(vec![Charge::new(THREE, "free")], at(9))
                .await
                .is_ok()
        );
    }
}
