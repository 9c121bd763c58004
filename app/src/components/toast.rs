pub fn provide_toasts() {}
#[leptos::component]
pub fn Toasts() -> impl leptos::IntoView {
    ()
}
