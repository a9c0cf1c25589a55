//! Shared pieces for the whole-system tests in `tests/tests/`: seeded clinics and the
//! simulated patients that walk through them.
#![forbid(unsafe_code)]
