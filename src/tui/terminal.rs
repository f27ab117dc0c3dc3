//! The terminal: raw mode and the alternate screen on the way in, and restored on every way out
//! (a normal return, an error, a panic, SIGTERM or SIGHUP).

use std::io::{self, Stdout};
use std::sync::Once;

use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal while the console runs; dropping it restores the terminal.
pub struct Guard {
    pub term: Term,
}

/// Puts the terminal back: cooked mode, the main screen, a visible cursor. Safe to call twice.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

static HOOK: Once = Once::new();

/// A panic restores the terminal before anything is printed, then reports as before.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Enters raw mode and the alternate screen.
pub fn enter() -> io::Result<Guard> {
    install_panic_hook();
    enable_raw_mode()?;
    if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, crossterm::cursor::Hide) {
        restore();
        return Err(e);
    }
    match Terminal::new(CrosstermBackend::new(io::stdout())) {
        Ok(term) => Ok(Guard { term }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
