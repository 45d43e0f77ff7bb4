//! How WebKitGTK draws the window on Linux. With no GPU render node (a VM, a remote desktop, Xvfb)
//! WebKit's accelerated compositing runs on Mesa's software rasterizer (llvmpipe), whose threads take
//! every core while anything moves — on a 2-core machine the window's own event loop then waits over
//! 100 ms for a core during a push. Without a GPU, WebKit's non-composited drawing is far cheaper, so
//! the app turns compositing off there, unless the person set WEBKIT_DISABLE_COMPOSITING_MODE already.

#[cfg(target_os = "linux")]
const SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Sets WEBKIT_DISABLE_COMPOSITING_MODE=1 when this machine has no GPU render node and the variable
/// is unset. Call before anything starts a thread or GTK.
#[cfg(target_os = "linux")]
pub fn choose() {
    let render_nodes: Vec<String> = std::fs::read_dir("/dev/dri")
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if compositing_off(std::env::var_os(SWITCH).is_some(), &render_nodes) {
        std::env::set_var(SWITCH, "1");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn choose() {}

/// Whether to turn compositing off: only when the person has not decided and no `renderD*` node (a
/// GPU that can render) is in /dev/dri.
#[cfg(any(target_os = "linux", test))]
fn compositing_off(set_by_person: bool, dri_entries: &[String]) -> bool {
    !set_by_person && !dri_entries.iter().any(|name| name.starts_with("renderD"))
}

#[cfg(test)]
mod tests {
    use super::compositing_off;

    #[test]
    fn compositing_goes_off_only_without_a_render_node_and_without_the_persons_own_setting() {
        let none: Vec<String> = vec![];
        let card_only = vec!["card0".to_string(), "by-path".to_string()];
        let gpu = vec!["card0".to_string(), "renderD128".to_string()];
        assert!(
            compositing_off(false, &none),
            "no /dev/dri at all: Xvfb, a VM"
        );
        assert!(
            compositing_off(false, &card_only),
            "a display controller but nothing to render with"
        );
        assert!(
            !compositing_off(false, &gpu),
            "a GPU renders: keep WebKit's default"
        );
        assert!(
            !compositing_off(true, &none),
            "the person's own WEBKIT_DISABLE_COMPOSITING_MODE wins"
        );
    }
}
