//! `#[engines]`: one of Keygate's integration tests, run on SQLite and on PostgreSQL, declared
//! where the test is written.
//!
//! ```text
//! use crate::support::{Engine, engines};
//!
//! #[engines]
//! async fn create_then_get_returns_the_client(engine: Engine) { /* … */ }
//! ```
//!
//! keeps the function as it is and adds beside it
//!
//! ```text
//! mod create_then_get_returns_the_client {
//!     #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//!     async fn sqlite() {
//!         if crate::support::engine_available(crate::support::Engine::Sqlite) {
//!             super::create_then_get_returns_the_client(crate::support::Engine::Sqlite).await;
//!         }
//!     }
//!     // `postgres`: the same with `Engine::Postgres`.
//! }
//! ```
//!
//! so the two tests are `…::create_then_get_returns_the_client::sqlite` and `…::postgres`, and a
//! filter with the function's name runs both. The test crate has `mod support` at its root with
//! `Engine` and `engine_available` (server/tests/integration/support/), which decides whether an
//! engine runs here: PostgreSQL is skipped with `KEYGATE_TEST_SQLITE_ONLY=1` and fails the test
//! when no server is configured.
//!
//! Why a macro of our own: before it, each file named its tests in an `engines!(a, b, …)` list,
//! kept in step with the functions by hand. rstest with rstest_reuse runs a function once per
//! case, but each test needs three attributes (`#[apply(engines)]` of a `#[template]` with
//! `#[rstest] #[case::sqlite(..)] #[case::postgres(..)]`, and `#[tokio::test]`), an engine can be
//! skipped only by a check at the top of every test body, and rstest_macros brings regex, glob,
//! relative-path and proc-macro-crate into the build. This is one attribute in about a hundred
//! lines on syn, quote and proc-macro2, which the build already compiles for tokio and serde.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, ReturnType, Type};

/// Runs `async fn name(engine: Engine)` as two tests, `name::sqlite` and `name::postgres`, each
/// on a multi-threaded tokio runtime with two workers, skipping an engine that is not available.
#[proc_macro_attribute]
pub fn engines(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    match expand(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// The expansion, on `proc_macro2` tokens so that unit tests can call it.
fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new(
            attr.span(),
            "`#[engines]` takes no arguments: it always runs the test on SQLite and PostgreSQL",
        ));
    }
    let function: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "`#[engines]` goes on an `async fn name(engine: Engine)`",
        )
    })?;
    check(&function)?;
    let name = &function.sig.ident;
    let tests = [("sqlite", "Sqlite"), ("postgres", "Postgres")].map(|(test, variant)| {
        let test = format_ident!("{test}", span = name.span());
        let variant = format_ident!("{variant}");
        // Spanned at the function's name, so a failure to compile points at the test.
        quote_spanned! {name.span()=>
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn #test() {
                if crate::support::engine_available(crate::support::Engine::#variant) {
                    super::#name(crate::support::Engine::#variant).await;
                }
            }
        }
    });
    Ok(quote! {
        #function

        mod #name {
            #(#tests)*
        }
    })
}

/// Refuses what the generated tests could not call as `name(engine).await`, or would call wrongly.
fn check(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(error(
            sig.fn_token.span,
            "`#[engines]` needs an `async fn`: it awaits the test on each engine",
        ));
    }
    if let Some(attr) = function.attrs.iter().find(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "test")
    }) {
        return Err(error(
            attr.span(),
            "`#[engines]` makes the tests itself: remove this test attribute",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(error(
            sig.generics.span(),
            "an `#[engines]` test takes no generic parameters",
        ));
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        return Err(error(
            ty.span(),
            "an `#[engines]` test returns nothing: it fails by panicking, as an assertion does",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(error(
            variadic.span(),
            "an `#[engines]` test is not variadic",
        ));
    }
    let mut inputs = sig.inputs.iter();
    let (Some(input), None) = (inputs.next(), inputs.next()) else {
        let span = if sig.inputs.is_empty() {
            sig.paren_token.span.join()
        } else {
            sig.inputs.span()
        };
        return Err(error(
            span,
            "an `#[engines]` test takes exactly one parameter, `engine: Engine`",
        ));
    };
    let FnArg::Typed(typed) = input else {
        return Err(error(
            input.span(),
            "an `#[engines]` test is a free function, not a method",
        ));
    };
    if !matches!(&*typed.pat, Pat::Ident(_) | Pat::Wild(_)) {
        return Err(error(
            typed.pat.span(),
            "expected a name for the engine, as in `engine: Engine`",
        ));
    }
    let is_engine = match &*typed.ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "Engine" && last.arguments.is_empty()),
        _ => false,
    };
    if !is_engine {
        return Err(error(
            typed.ty.span(),
            "the parameter of an `#[engines]` test is the `Engine` it runs on",
        ));
    }
    Ok(())
}

fn error(span: Span, message: &str) -> syn::Error {
    syn::Error::new(span, message)
}

#[cfg(test)]
mod tests {
    use super::expand;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The expansion as a file, to look at its items.
    fn expanded(item: TokenStream) -> syn::File {
        let tokens = expand(TokenStream::new(), item).expect("it expands");
        syn::parse2(tokens).expect("the expansion is Rust")
    }

    /// The message of the error `expand` gives for `item` (with `attr`).
    fn refusal(attr: TokenStream, item: TokenStream) -> String {
        expand(attr, item).expect_err("it is refused").to_string()
    }

    #[test]
    fn keeps_the_function_and_adds_one_test_per_engine_in_a_module_of_its_name() {
        let file = expanded(quote! {
            /// What it proves.
            async fn create_then_get(engine: Engine) {
                let _ = engine;
            }
        });
        let expected: syn::File = syn::parse2(quote! {
            /// What it proves.
            async fn create_then_get(engine: Engine) {
                let _ = engine;
            }

            mod create_then_get {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if crate::support::engine_available(crate::support::Engine::Sqlite) {
                        super::create_then_get(crate::support::Engine::Sqlite).await;
                    }
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if crate::support::engine_available(crate::support::Engine::Postgres) {
                        super::create_then_get(crate::support::Engine::Postgres).await;
                    }
                }
            }
        })
        .unwrap();
        assert_eq!(quote!(#file).to_string(), quote!(#expected).to_string());
    }

    #[test]
    fn accepts_a_path_to_engine_and_an_unused_parameter() {
        for item in [
            quote!(
                async fn a(engine: crate::support::Engine) {}
            ),
            quote!(
                async fn b(_: Engine) {}
            ),
            quote!(
                async fn c(_engine: Engine) {}
            ),
        ] {
            assert_eq!(expanded(item).items.len(), 2);
        }
    }

    #[test]
    fn refuses_a_function_that_is_not_async() {
        let message = refusal(
            TokenStream::new(),
            quote!(
                fn plain(engine: Engine) {}
            ),
        );
        assert!(message.contains("needs an `async fn`"), "{message}");
    }

    #[test]
    fn refuses_arguments_to_the_attribute() {
        let message = refusal(
            quote!(sqlite),
            quote!(
                async fn a(engine: Engine) {}
            ),
        );
        assert!(message.contains("takes no arguments"), "{message}");
    }

    #[test]
    fn refuses_a_wrong_signature_with_a_message_that_says_what_is_expected() {
        for (item, expected) in [
            (
                quote!(
                    async fn a() {}
                ),
                "exactly one parameter",
            ),
            (
                quote!(
                    async fn a(engine: Engine, extra: u8) {}
                ),
                "exactly one parameter",
            ),
            (
                quote!(
                    async fn a(engine: String) {}
                ),
                "the `Engine` it runs on",
            ),
            (
                quote!(
                    async fn a(engine: &Engine) {}
                ),
                "the `Engine` it runs on",
            ),
            (
                quote!(
                    async fn a((x, y): Engine) {}
                ),
                "a name for the engine",
            ),
            (
                quote!(
                    async fn a(&self) {}
                ),
                "not a method",
            ),
            (
                quote!(
                    async fn a<T>(engine: Engine) {}
                ),
                "no generic parameters",
            ),
            (
                quote!(
                    async fn a(engine: Engine) -> Result<(), String> {
                        Ok(())
                    }
                ),
                "returns nothing",
            ),
            (
                quote!(
                    #[tokio::test]
                    async fn a(engine: Engine) {}
                ),
                "remove this test attribute",
            ),
            (
                quote!(
                    struct NotAFunction;
                ),
                "goes on an `async fn",
            ),
        ] {
            let message = refusal(TokenStream::new(), item.clone());
            assert!(
                message.contains(expected),
                "{item}: expected {expected:?}, got {message:?}"
            );
        }
    }
}
