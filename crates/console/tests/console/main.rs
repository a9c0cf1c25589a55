//! The console against a real clinic server on loopback, with a computer in memory (the fake
//! host): what staff see and what the console keeps, as the UI would get it. One test binary,
//! one module per part of a shift.

mod actions;
mod admin;
mod alerts;
mod calendar;
mod calls;
mod day;
#[cfg(feature = "demo")]
mod demo;
mod lock;
mod precall;
mod providers;
mod pushes;
mod reports;
mod rig;
mod session;
mod stations;
