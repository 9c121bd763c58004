//! The one encoder for values the pages put in their addresses (`?q=…&sort=…`): a list's search
//! and sort, the activity log's filters. Everything but RFC 3986's unreserved characters is
//! percent-encoded byte by byte, so any text round-trips through the router's query map.

pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reserved_and_non_ascii_characters_are_percent_encoded() {
        assert_eq!(super::encode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
    }
}
