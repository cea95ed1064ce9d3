//! Whether a file written by one layer is still in the image's final filesystem, following the
//! OCI layer rules: a later layer hides it by writing the same path, by a whiteout of it or of
//! a parent directory, by an opaque marker in a parent directory, or by replacing a parent
//! directory with a non-directory. Whiteouts and opaque markers only act on lower layers.

use super::layer::LayerListing;
use super::{HiddenBy, Visibility};

/// The visibility of `path` as written by layer `layer` of an image whose layers (base first)
/// list as `layers`. `same_content(j)` says whether layer `j`'s file at `path` has the same
/// content (a rewrite with the same bytes does not hide the secret).
pub fn visibility(
    layers: &[&LayerListing],
    layer: usize,
    path: &str,
    same_content: impl Fn(usize) -> bool,
) -> Visibility {
    let ancestors: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
    for (j, later) in layers.iter().enumerate().skip(layer + 1) {
        let hidden = |how| Visibility::Hidden { by_layer: j, how };
        if later.whiteouts.contains(path) || ancestors.iter().any(|a| later.whiteouts.contains(*a))
        {
            return hidden(HiddenBy::Whiteout);
        }
        if later.opaque.contains("") || ancestors.iter().any(|a| later.opaque.contains(*a)) {
            return hidden(HiddenBy::OpaqueDirectory);
        }
        if ancestors
            .iter()
            .any(|a| later.entries.get(*a) == Some(&false))
        {
            return hidden(HiddenBy::ParentReplaced);
        }
        if later.entries.contains_key(path) && !same_content(j) {
            return hidden(HiddenBy::Overwritten);
        }
    }
    Visibility::Visible
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(entries: &[(&str, bool)], wh: &[&str], opq: &[&str]) -> LayerListing {
        LayerListing {
            entries: entries.iter().map(|(p, d)| (p.to_string(), *d)).collect(),
            whiteouts: wh.iter().map(|s| s.to_string()).collect(),
            opaque: opq.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn every_way_of_hiding() {
        let base = listing(&[("app", true), ("app/.env", false)], &[], &[]);
        let vis = |later: LayerListing| visibility(&[&base, &later], 0, "app/.env", |_| false);
        assert_eq!(vis(listing(&[], &[], &[])), Visibility::Visible);
        let hidden = |how| Visibility::Hidden { by_layer: 1, how };
        assert_eq!(
            vis(listing(&[], &["app/.env"], &[])),
            hidden(HiddenBy::Whiteout)
        );
        assert_eq!(vis(listing(&[], &["app"], &[])), hidden(HiddenBy::Whiteout));
        assert_eq!(
            vis(listing(&[], &[], &["app"])),
            hidden(HiddenBy::OpaqueDirectory)
        );
        assert_eq!(
            vis(listing(&[("app", false)], &[], &[])),
            hidden(HiddenBy::ParentReplaced)
        );
        assert_eq!(
            vis(listing(&[("app/.env", false)], &[], &[])),
            hidden(HiddenBy::Overwritten)
        );
        // A sibling's whiteout or an unrelated opaque dir changes nothing.
        assert_eq!(
            vis(listing(&[], &["app/.env2", "ap"], &["other"])),
            Visibility::Visible
        );
        // Rewriting the same bytes keeps the secret visible.
        let later = listing(&[("app/.env", false)], &[], &[]);
        assert_eq!(
            visibility(&[&base, &later], 0, "app/.env", |_| true),
            Visibility::Visible
        );
    }
}
