//! The Devices page's bulk paste: many device ids at once, one per line or comma-separated. The
//! browser parses as you type (how many, which lines are wrong and why) and the server parses the
//! same text again before creating anything.

use super::{DeviceId, ParseError};
use serde::{Deserialize, Serialize};

/// How many device ids one paste may hold: one request, one transaction.
pub const MAX_PASTE: usize = 1000;

/// A pasted line that holds something other than device ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteLine {
    /// 1-based, as an editor numbers lines.
    pub line: usize,
    /// The piece of the line that did not parse, as typed (trimmed).
    pub text: String,
    /// The device id parser's sentence.
    pub reason: String,
}

/// What a paste holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevicePaste {
    /// Each id once, in the order first pasted.
    pub ids: Vec<DeviceId>,
    /// Ids pasted more than once, counted beyond the first.
    pub repeated: usize,
    /// Every piece that is not a device id.
    pub invalid: Vec<PasteLine>,
}

impl DevicePaste {
    /// More ids than one paste may create.
    pub fn too_many(&self) -> bool {
        self.ids.len() > MAX_PASTE
    }

    /// Nothing to complain about and something to create.
    pub fn is_ready(&self) -> bool {
        self.problem().is_none()
    }

    /// Why the paste cannot be created as it stands, as the field shows it: its first bad piece
    /// (with its line), nothing to create, or too much at once.
    pub fn problem(&self) -> Option<String> {
        if let Some(bad) = self.invalid.first() {
            return Some(format!("Line {}: {}", bad.line, bad.reason));
        }
        if self.ids.is_empty() {
            return Some("Paste at least one device id.".to_owned());
        }
        if self.too_many() {
            return Some(format!("Paste at most {MAX_PASTE} device ids at once."));
        }
        None
    }
}

/// Parses a paste: lines split at commas too, blank pieces ignored, each piece a [`DeviceId`].
pub fn parse_paste(text: &str) -> DevicePaste {
    let mut paste = DevicePaste::default();
    let mut seen = std::collections::HashSet::new();
    for (index, line) in text.lines().enumerate() {
        for piece in line.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match DeviceId::parse(piece) {
                Ok(id) => {
                    if seen.insert(id.clone()) {
                        paste.ids.push(id);
                    } else {
                        paste.repeated += 1;
                    }
                }
                Err(e) => paste.invalid.push(invalid(index + 1, piece, e)),
            }
        }
    }
    paste
}

fn invalid(line: usize, text: &str, e: ParseError) -> PasteLine {
    PasteLine {
        line,
        text: text.to_owned(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_one_per_line_or_comma_separated_each_once() {
        let paste = parse_paste("d-1\n  d-2, d-3 ,,\n\nd-1\r\nd-4");
        let ids: Vec<&str> = paste.ids.iter().map(DeviceId::as_str).collect();
        assert_eq!(ids, ["d-1", "d-2", "d-3", "d-4"]);
        assert_eq!(paste.repeated, 1);
        assert!(paste.invalid.is_empty());
        assert!(paste.is_ready());
    }

    #[test]
    fn each_bad_piece_is_named_with_its_line_and_the_parsers_reason() {
        let paste = parse_paste("d-1\nbad id\nd-2, a/b\n..");
        assert_eq!(paste.ids.len(), 2);
        let lines: Vec<(usize, &str)> = paste
            .invalid
            .iter()
            .map(|l| (l.line, l.text.as_str()))
            .collect();
        assert_eq!(lines, [(2, "bad id"), (3, "a/b"), (4, "..")]);
        assert_eq!(
            paste.invalid[1].reason,
            DeviceId::parse("a/b").unwrap_err().to_string()
        );
        assert_eq!(
            paste.problem().unwrap(),
            format!("Line 2: {}", DeviceId::parse("bad id").unwrap_err())
        );
    }

    #[test]
    fn an_empty_or_oversized_paste_is_not_ready() {
        assert_eq!(
            parse_paste(" \n , ").problem().as_deref(),
            Some("Paste at least one device id.")
        );
        let many: Vec<String> = (0..=MAX_PASTE).map(|i| format!("d-{i}")).collect();
        let paste = parse_paste(&many.join("\n"));
        assert!(paste.too_many());
        assert_eq!(
            paste.problem().as_deref(),
            Some("Paste at most 1000 device ids at once.")
        );
    }
}
