//! Short confirmations ("Client created") in the corner of the screen.

use leptos::prelude::*;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
}

#[derive(Clone, Debug)]
struct Toast {
    id: u64,
    text: String,
    kind: ToastKind,
}

/// The toast queue, provided as context by [`provide_toasts`].
#[derive(Clone, Copy)]
pub struct Toaster {
    toasts: RwSignal<Vec<Toast>>,
    next: RwSignal<u64>,
}

impl Toaster {
    pub fn show(&self, kind: ToastKind, text: impl Into<String>) {
        let id = self.next.get_untracked();
        self.next.set(id + 1);
        self.toasts.update(|t| {
            t.push(Toast {
                id,
                text: text.into(),
                kind,
            })
        });
        let toasts = self.toasts;
        set_timeout(
            move || toasts.update(|t| t.retain(|x| x.id != id)),
            Duration::from_secs(4),
        );
    }

    pub fn success(&self, text: impl Into<String>) {
        self.show(ToastKind::Success, text);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.show(ToastKind::Error, text);
    }
}

pub fn provide_toasts() {
    provide_context(Toaster {
        toasts: RwSignal::new(Vec::new()),
        next: RwSignal::new(0),
    });
}

pub fn use_toaster() -> Toaster {
    expect_context::<Toaster>()
}

#[component]
pub fn Toasts() -> impl IntoView {
    let toaster = use_toaster();
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || toaster.toasts.get() key=|t| t.id let:toast>
                <div class="toast" class:error=toast.kind == ToastKind::Error data-testid="toast" role="status">
                    {toast.text}
                </div>
            </For>
        </div>
    }
}
