//! What a client's keys say of it on the Clients page, in the list and on the cards: "Expires in
//! 5 days" (a warning within 7 days) or "Expired", and "Rotating" while a rotation's old key still
//! works, with when it retires. Counted from the server's clock of the page
//! ([`ClientPage::now`](crate::model::ClientPage)), so the browser hydrates the text the server
//! rendered.

use crate::model::{ClientExpiry, KeyInfo, in_words, time_format};
use leptos::prelude::*;

/// A badge's words, its tooltip, and whether it warns.
#[derive(Debug, PartialEq, Eq)]
struct Badge {
    text: String,
    title: String,
    warn: bool,
}

/// "Expires in 5 days" from 30 days ahead, "Expired" once no key works; `None` otherwise.
fn expiry_badge(keys: &[KeyInfo], now: i64) -> Option<Badge> {
    let expiry = ClientExpiry::of(keys, now);
    let (text, warn) = expiry.badge(now)?;
    let title = match expiry {
        ClientExpiry::Ends(end) => format!(
            "Its devices cannot connect after {}, when its last working key expires.",
            time_format::utc_minutes(end)
        ),
        _ => {
            "No key of this client works any more: regenerate its key to let its devices in again."
                .to_owned()
        }
    };
    Some(Badge { text, title, warn })
}

/// The key a rotation is retiring, while it still works: its fingerprint and when it retires.
pub fn retiring(keys: &[KeyInfo], now: i64) -> Option<(&str, i64)> {
    keys.iter()
        .filter(|k| k.retiring && k.works_at(now))
        .find_map(|k| k.ends_at.map(|end| (k.fingerprint.as_str(), end)))
}

/// "Rotating · old key retires in 23 hours" while a rotation's old key still works.
fn rotating_badge(keys: &[KeyInfo], now: i64) -> Option<Badge> {
    let (fingerprint, end) = retiring(keys, now)?;
    Some(Badge {
        text: format!("Rotating · old key retires in {}", in_words(end - now)),
        title: format!(
            "Both keys work until {}; then the old key ({fingerprint}) stops working and its sessions close.",
            time_format::utc_minutes(end)
        ),
        warn: false,
    })
}

/// The client's key badges; nothing for a client whose key neither ends soon nor rotates.
#[component]
pub fn KeyBadges(keys: Vec<KeyInfo>, now: i64) -> impl IntoView {
    let rotating = rotating_badge(&keys, now).map(|b| {
        view! { <span class="badge rotating" data-testid="rotating-badge" title=b.title>{b.text}</span> }
    });
    let expiry = expiry_badge(&keys, now).map(|b| {
        view! { <span class="badge expiry" class:warn=b.warn data-testid="expiry-badge" data-warn=b.warn.to_string() title=b.title>{b.text}</span> }
    });
    (rotating.is_some() || expiry.is_some())
        .then(|| view! { <div class="key-badges">{rotating}{expiry}</div> })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DAY_MS, HOUR_MS};

    const NOW: i64 = 1_800_000_000_000;

    fn key(fingerprint: &str, ends_at: Option<i64>, retiring: bool) -> KeyInfo {
        KeyInfo {
            id: fingerprint.into(),
            fingerprint: fingerprint.into(),
            created_at: 0,
            ends_at,
            retiring,
            last_used_at: None,
            last_address: None,
            live_sessions: 0,
        }
    }

    #[test]
    fn a_rotation_shows_when_the_old_key_retires_until_it_has() {
        let keys = [
            key("0ld0ld00", Some(NOW + 23 * HOUR_MS), true),
            key("9e99e900", None, false),
        ];
        let badge = rotating_badge(&keys, NOW).unwrap();
        assert_eq!(badge.text, "Rotating · old key retires in 23 hours");
        assert!(badge.title.contains("(0ld0ld00)"), "{}", badge.title);
        assert_eq!(rotating_badge(&keys, NOW + 23 * HOUR_MS), None);
        assert_eq!(rotating_badge(&keys[1..], NOW), None);
    }

    #[test]
    fn the_expiry_badge_warns_within_a_week_and_says_expired_once_no_key_works() {
        let soon = [key("a", Some(NOW + 3 * DAY_MS), false)];
        let badge = expiry_badge(&soon, NOW).unwrap();
        assert_eq!(
            (badge.text.as_str(), badge.warn),
            ("Expires in 3 days", true)
        );
        let later = [key("a", Some(NOW + 20 * DAY_MS), false)];
        assert!(!expiry_badge(&later, NOW).unwrap().warn);
        assert_eq!(
            expiry_badge(&[key("a", Some(NOW + 90 * DAY_MS), false)], NOW),
            None
        );
        assert_eq!(expiry_badge(&[key("a", None, false)], NOW), None);
        let gone = expiry_badge(&[key("a", Some(NOW - 1), false)], NOW).unwrap();
        assert_eq!((gone.text.as_str(), gone.warn), ("Expired", true));
    }

    #[test]
    fn a_rotation_to_a_key_that_never_expires_has_no_expiry_badge() {
        let keys = [key("a", Some(NOW + HOUR_MS), true), key("b", None, false)];
        assert_eq!(expiry_badge(&keys, NOW), None);
        assert!(rotating_badge(&keys, NOW).is_some());
    }
}
