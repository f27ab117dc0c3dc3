//! Pieces the screens share: the palette (colour or `NO_COLOR`), number and time formats, and a
//! table that draws only its visible rows.

use std::time::Duration;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Row, Table};

use crate::fleet::duration::human_duration;
use crate::tui::model::Cursor;

/// Styles, with colour or without (`NO_COLOR`): without, emphasis is bold, reversed or dim.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    color: bool,
}

impl Palette {
    pub fn new(color: bool) -> Self {
        Palette { color }
    }
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
    pub fn title(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
    pub fn header(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn series_a(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn series_b(&self) -> Style {
        self.fg(Color::Cyan)
    }
}

/// kubectl's AGE ([`human_duration`]): `45s`, `3m20s`, `75m`, `5h10m`, `30h`, `3d4h`, `400d`;
/// `-` when there is no time, `0s` for a time still to come.
pub fn age(now: Timestamp, then: Option<Timestamp>) -> String {
    let Some(then) = then else {
        return "-".into();
    };
    human_duration(Duration::try_from(now.duration_since(then)).unwrap_or_default())
}

/// `14:03:27` (UTC).
pub fn clock(t: Timestamp) -> String {
    let dt = t.to_zoned(jiff::tz::TimeZone::UTC);
    format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second())
}

/// `512Mi`, `1.5Gi`.
pub fn bytes(b: u64) -> String {
    const MI: f64 = 1024.0 * 1024.0;
    let mi = b as f64 / MI;
    if mi >= 1024.0 {
        format!("{:.1}Gi", mi / 1024.0)
    } else if mi >= 10.0 {
        format!("{mi:.0}Mi")
    } else {
        format!("{mi:.1}Mi")
    }
}

/// A rate or a dash.
pub fn rate(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => "-".into(),
    }
}

pub fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The start of `s`, at most `n` characters, with `…` when cut.
pub fn first_words(s: &str, n: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() <= n {
        line.to_string()
    } else {
        let cut: String = line.chars().take(n.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// A bordered table of `len` rows that builds only the visible ones (`row(i)`).
#[allow(clippy::too_many_arguments)]
pub fn table<'a>(
    f: &mut Frame,
    area: Rect,
    title: Line<'a>,
    header: &[&'a str],
    widths: &[Constraint],
    len: usize,
    cursor: Option<Cursor>,
    p: &Palette,
    mut row: impl FnMut(usize) -> Row<'a>,
) {
    let page = usize::from(area.height.saturating_sub(3));
    let offset = cursor.map_or(0, |c| c.offset).min(len);
    let end = (offset + page).min(len);
    let rows: Vec<Row> = (offset..end)
        .map(|i| {
            let r = row(i);
            if cursor.is_some_and(|c| c.selected == i) {
                r.style(p.selected())
            } else {
                r
            }
        })
        .collect();
    let shown = if len > page {
        format!(" {}-{} of {len} ", offset + usize::from(end > offset), end)
    } else {
        format!(" {len} ")
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .title_bottom(Line::from(shown).right_aligned());
    let t = Table::new(rows, widths.to_vec())
        .header(Row::new(header.to_vec()).style(p.header()))
        .block(block)
        .column_spacing(1);
    f.render_widget(t, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates() {
        assert_eq!(bytes(512 * 1024 * 1024), "512Mi");
        assert_eq!(bytes(3 * 1024 * 1024 / 2), "1.5Mi");
        assert_eq!(bytes(1536 * 1024 * 1024), "1.5Gi");
        assert_eq!(rate(Some(12.34)), "12.3");
        assert_eq!(rate(Some(1234.0)), "1234");
        assert_eq!(rate(None), "-");
        assert_eq!(first_words("abcdef", 4), "abc…");
    }
}
