//! The HTTP layer in front of every route, from the outside through real HTTP: which requests it
//! refuses before a session is loaded or a server function runs (the Origin check, the Host
//! check), and the redirects a browser without JavaScript follows.

mod host_check;
mod origin_check;
mod redirects;
