//! What a store remembers of an audit target between scans (the model both the scanner and
//! the inventory speak).

/// What a store remembers of one target, as it keeps it: the target's latest scan, the ref-tip
/// signature of that scan (when it was complete and ran under the same digest), and every
/// object read before with its matches as [`encode`] wrote them.
#[derive(Debug, Clone, Default)]
pub struct Remembered {
    /// The target's latest scan (store-specific id).
    pub last_scan: Option<i64>,
    /// Ref-tip (or image) signature of that scan.
    pub tips: Option<String>,
    /// Objects read before, each with its encoded matches (`None`: none).
    pub objects: Vec<(String, Option<String>)>,
}
