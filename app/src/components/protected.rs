//! The frame of every signed-in page: loads the signed-in user, shows the header, and sends
//! anyone else to the sign-in page.

use crate::api::account::current_user;
use crate::components::header::Header;
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

/// Renders `children` with the signed-in user, or redirects to `/signin`.
#[component]
pub fn Protected(children: Box<dyn Fn(Me) -> AnyView + Send + Sync>) -> impl IntoView {
    let version = use_me_version();
    let me = Resource::new(move || version.get(), |_| current_user());
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
