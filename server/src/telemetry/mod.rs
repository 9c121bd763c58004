//! What Keygate tells its operators besides the text of its log lines: which HTTP request a log
//! line belongs to ([`requests`]).

pub mod requests;
