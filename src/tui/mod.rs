//! `fleetctl tui`: the fleet console.
//!
//! Update/view (DESIGN.md): I/O tasks send [`msg::Msg`]s into one bounded channel; the loop in
//! [`app`] owns the [`model::Model`], folds each message in with [`update::update`], runs the
//! [`cmd::Cmd`]s it returns through the executor, and draws with [`view::view`] only when
//! something changed, at most ~30 times a second. `model`, `update` and `view` do no I/O.

pub mod app;
pub mod cmd;
pub mod exec;
pub mod fixture;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod terminal;
#[cfg(test)]
mod tests;
pub mod update;
pub mod view;
