//! The HTTP layer in front of every route, from the outside through real HTTP: which requests it
//! refuses before a session is loaded or a server function runs, and the redirects a browser
//! without JavaScript follows.

mod origin_check;
mod redirects;
