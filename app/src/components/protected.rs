//! The frame of every signed-in page: loads the signed-in user, shows the header, and sends
//! anyone else to the sign-in page.

use crate::api::account::current_user;
use crate::components::header::Header;
use crate::components::key_policy::provide_key_policy;
use crate::error::AppError;
use crate::model::Me;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// Bumped when something the header shows changes (a workspace created, renamed or switched);
/// pages that depend on the current workspace refetch with it.
#[derive(Clone, Copy)]
pub struct MeVersion(pub RwSignal<u32>);

pub fn provide_me_version() {
    provide_context(MeVersion(RwSignal::new(0)));
}

pub fn use_me_version() -> RwSignal<u32> {
    expect_context::<MeVersion>().0
}

/// The signed-in user (`None` when signed out), refetched when [`MeVersion`] changes.
pub type MeResource = Resource<Result<Option<Me>, AppError>>;

/// Creates the page's [`MeResource`], and beside it the key policy the header shows
/// ([`provide_key_policy`]). Pages create it (and their own data) at their top level, outside
/// [`Protected`]: server rendering may run the protected view more than once, and a resource
/// created in a discarded run would be fetched and serialized but missing at hydration.
pub fn me_resource() -> MeResource {
    let version = use_me_version();
    let me = Resource::new(move || version.get(), |_| current_user());
    provide_key_policy(me);
    me
}

/// Runs `fetch` only for a signed-in user; a signed-out visitor is redirected by [`Protected`]
/// and must not cost a refused request first.
pub async fn when_signed_in<T, F>(
    me: MeResource,
    fetch: impl FnOnce() -> F,
) -> Result<Option<T>, AppError>
where
    F: std::future::Future<Output = Result<T, AppError>>,
{
    match me.await {
        Ok(Some(_)) => fetch().await.map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Renders `children` with the signed-in user, or redirects to `/signin`.
#[component]
pub fn Protected(
    me: MeResource,
    children: Box<dyn Fn(Me) -> AnyView + Send + Sync>,
) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <Transition fallback=|| view! { <div class="loading">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! {
                        <Header me=me.clone()/>
                        <main class="page">{children.with_value(|c| c(me))}</main>
                    }.into_any(),
                    Ok(None) => view! { <Redirect path="/signin"/> }.into_any(),
                    Err(e) => view! {
                        <main class="page"><div class="banner error" role="alert">{e.to_string()}</div></main>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
