//! Selection and scrolling of a virtual list: only the visible window is ever drawn.

/// Cursor and scroll offset over `len` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListState {
    /// Selected row.
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
    /// Rows in all.
    pub len: usize,
}

impl ListState {
    /// Set the length, keeping the selection in range.
    pub fn set_len(&mut self, len: usize) {
        self.len = len;
        if self.selected >= len {
            self.selected = len.saturating_sub(1);
        }
        if self.offset > self.selected {
            self.offset = self.selected;
        }
    }

    /// Move by `delta` rows, clamped.
    pub fn move_by(&mut self, delta: isize) {
        if self.len == 0 {
            return;
        }
        let max = self.len as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, max) as usize;
    }

    /// Select a row.
    pub fn select(&mut self, i: usize) {
        self.selected = i.min(self.len.saturating_sub(1));
    }

    /// Scroll so the selection is visible in `height` rows; returns the visible range.
    pub fn window(&mut self, height: usize) -> std::ops::Range<usize> {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        if self.offset + height > self.len {
            self.offset = self.len.saturating_sub(height);
        }
        self.offset..(self.offset + height).min(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_follows_the_selection() {
        let mut l = ListState::default();
        l.set_len(100_000);
        assert_eq!(l.window(10), 0..10);
        l.move_by(15);
        assert_eq!(l.window(10), 6..16);
        l.move_by(1_000_000);
        assert_eq!(l.selected, 99_999);
        assert_eq!(l.window(10), 99_990..100_000);
        l.set_len(5);
        assert_eq!(l.selected, 4);
        assert_eq!(l.window(10), 0..5);
        l.set_len(0);
        l.move_by(1);
        assert_eq!(l.window(3), 0..0);
    }
}
