//! Values written into the snippets and the credentials file, each quoted for the language that
//! reads it, so that it reads back byte for byte whatever it holds. A typed key may hold any
//! printable ASCII character (quotes of both kinds, `$`, backticks, backslashes, `#`, `!`), and a
//! broker host comes from the configuration or the request's `Host`: neither may break out of its
//! quotes. `interpreter_tests.rs` runs every snippet and the file through the real readers.

/// A word for a shell command line: bare when no shell gives any of its characters a meaning,
/// else quoted by `shlex`, whose quoting reads the same in sh (dash), bash (also interactive,
/// where `!` and `^` are special), zsh and fish (where `\` is special in single quotes).
pub fn sh(value: &str) -> String {
    // An argument cannot hold a NUL at all, and shlex refuses one: drop it.
    let value = value.replace('\0', "");
    shlex::try_quote(&value)
        .expect("shlex refuses only a NUL")
        .into_owned()
}

/// A Python 3 string literal. JSON's string syntax is a subset of Python's (`\"`, `\\`, `\n`,
/// `\t`, `\uXXXX`…, every other character as itself), so a JSON string is one.
pub fn python(value: &str) -> String {
    json_string(value)
}

/// A JavaScript string literal: a JSON string (a subset of JavaScript since ES2019), with U+2028
/// and U+2029 escaped too, which older engines read as line ends inside a string.
pub fn js(value: &str) -> String {
    json_string(value)
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn json_string(value: &str) -> String {
    serde_json::to_string(value).expect("a string always serializes")
}

/// A value of a `NAME=VALUE` line of a `.env` file, as written by [`dotenv`].
#[derive(Debug, PartialEq, Eq)]
pub struct DotenvValue {
    /// What follows `NAME=`.
    pub text: String,
    /// Whether python-dotenv (with its default `${NAME}` interpolation) reads the value back as
    /// `set -a; . ./FILE` in sh does. When no quoting can do both, `text` is written for sh.
    pub portable: bool,
}

/// A `.env` value that sh (`set -a; . ./FILE`) and python-dotenv read back as it is, in the first
/// of these forms that can hold it:
///
/// - bare, when it holds only characters no reader treats specially;
/// - in single quotes, where sh takes every character as itself, and so does python-dotenv but
///   for `\\` and `\'`: so when it holds neither, nor a `'`;
/// - in double quotes with `\` and `"` escaped, which both readers unescape alike, when it holds
///   no `$` or backtick: sh expands them in double quotes, and python-dotenv keeps `\$` as is.
///
/// No form reads the same in both, and the value is quoted for sh with `portable` false, when it
/// holds a `'` and a `$` or backtick, a control character, or `${`, which python-dotenv expands
/// whatever the quotes; nor when it ends with `\`, which python-dotenv 1.2.2 misreads in double
/// quotes and 1.2.4 in single quotes.
pub fn dotenv(value: &str) -> DotenvValue {
    let portable = |text: String| DotenvValue {
        text,
        portable: true,
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:@+".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        return portable(value.to_owned());
    }
    if value.chars().any(char::is_control) || value.contains("${") || value.ends_with('\\') {
        return for_sh_only(value);
    }
    if !value.contains('\'') && !value.contains("\\\\") {
        return portable(format!("'{value}'"));
    }
    if !value.contains(['$', '`']) {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        return portable(format!("\"{escaped}\""));
    }
    for_sh_only(value)
}

fn for_sh_only(value: &str) -> DotenvValue {
    DotenvValue {
        text: sh(value),
        portable: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_word_is_bare_only_when_nothing_in_it_is_special() {
        assert_eq!(
            sh("kgk_3vQ9x/acme:1883@host.example-1"),
            "kgk_3vQ9x/acme:1883@host.example-1"
        );
        assert_eq!(sh(""), "''");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("$HOME"), "'$HOME'");
        assert_eq!(sh("it's"), "\"it's\"");
        assert_eq!(sh("it's $HOME!"), "\"it's \"'$HOME!'");
        assert_eq!(sh("back\\slash"), "\"back\\\\slash\"");
        assert_eq!(sh("nul\0byte"), "nulbyte");
    }

    #[test]
    fn python_and_javascript_literals_escape_quotes_backslashes_and_line_ends() {
        let value = "q\"'\\\n\t\u{7}ü\u{2028}$`#";
        assert_eq!(python(value), "\"q\\\"'\\\\\\n\\t\\u0007ü\u{2028}$`#\"");
        assert_eq!(js(value), "\"q\\\"'\\\\\\n\\t\\u0007ü\\u2028$`#\"");
    }

    #[test]
    fn a_dotenv_value_takes_the_first_form_both_readers_agree_on() {
        let form = |value: &str| {
            let v = dotenv(value);
            (v.text, v.portable)
        };
        assert_eq!(
            form("kgk_3vQ9x-acme.example:1883"),
            ("kgk_3vQ9x-acme.example:1883".into(), true)
        );
        assert_eq!(form(""), ("''".into(), true));
        assert_eq!(
            form("$HOME #1 \"q\" `id`"),
            ("'$HOME #1 \"q\" `id`'".into(), true)
        );
        assert_eq!(form("one\\backslash"), ("'one\\backslash'".into(), true));
        assert_eq!(
            form("it's \"q\" \\\\ x"),
            ("\"it's \\\"q\\\" \\\\\\\\ x\"".into(), true)
        );
        assert_eq!(form("a\\\\b"), ("\"a\\\\\\\\b\"".into(), true));
        assert_eq!(form("ends with \\"), ("\"ends with \\\\\"".into(), false));
        assert_eq!(form("it's $HOME"), ("\"it's \"'$HOME'".into(), false));
        assert_eq!(form("${HOME}"), ("'${HOME}'".into(), false));
        assert_eq!(form("line\nbreak"), ("'line\nbreak'".into(), false));
    }
}
