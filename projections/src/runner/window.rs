//! The instance's one read of the feed, shared by the projectors it runs.
//!
//! One task (`read`) reads the feed past the window's end when woken (a command committed here,
//! a notification from another instance, a projector's batch that ended and so may have let
//! the horizon move, or the poll), below the horizon as every reader does, and appends what it
//! read to the window: the feed after its start up to its end, gap-free and in order, a few
//! batches long (older events drop out of it). The projectors take their events from it rather
//! than each reading the feed: a projector that finds none of its event types past its place
//! does no database work at all; one whose place has dropped out of the window (just started,
//! just took a lease over, slow) reads the feed on its own, as before, until it is back in it.
//!
//! The window only says what the feed holds; each batch still reads and locks its checkpoint
//! and applies from there, so exactly-once, fencing and dead letters do not depend on it.

use std::collections::VecDeque;
use std::sync::RwLock;

use tokio::sync::watch;

use crate::{FeedPosition, StoredEvent};

/// What lies past a projector's place, for the event types it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ahead {
    /// The place is before the window's start: the events after it are in the feed.
    Behind,
    /// The window has not started, or the place is past its end: only the feed knows.
    Unknown,
    /// Nothing of its types up to `end`, the window's end.
    Nothing { end: FeedPosition },
    /// At least one event of its types.
    Something,
}

/// Events past a place, as the window has them.
#[derive(Debug)]
pub(crate) struct Slice {
    /// The events of the wanted types, in order.
    pub events: Vec<StoredEvent>,
    /// How many events the slice spans (all types).
    pub read: usize,
    /// The last event it spans.
    pub end: FeedPosition,
}

pub(crate) struct Window {
    inner: RwLock<Inner>,
    /// The window's end, for the projectors to wait on.
    end: watch::Sender<FeedPosition>,
    /// At most this many events...
    cap: usize,
    /// ...and about this many bytes of them (a quote's event is 60 kB).
    cap_bytes: usize,
}

struct Inner {
    /// `None` until the first read: then the feed after `start` up to `end` is `events`.
    start: Option<FeedPosition>,
    end: FeedPosition,
    events: VecDeque<StoredEvent>,
    /// The size of `events`, about.
    bytes: usize,
}

/// About what an event takes in memory.
fn size(event: &StoredEvent) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    std::mem::size_of::<StoredEvent>()
        + event.aggregate_type.len()
        + event.aggregate_id.len()
        + event.event_type.len()
        + event.event_version.len()
        + text(&event.payload)
        + text(&event.metadata)
}

impl Window {
    /// An empty window that keeps at most `cap` events, and about `cap_bytes` of them.
    pub(crate) fn new(cap: usize, cap_bytes: usize) -> Self {
        Self {
            inner: RwLock::new(Inner {
                start: None,
                end: FeedPosition::default(),
                events: VecDeque::new(),
                bytes: 0,
            }),
            end: watch::channel(FeedPosition::default()).0,
            cap: cap.max(1),
            cap_bytes,
        }
    }

    /// Changes with the window's end.
    pub(crate) fn subscribe(&self) -> watch::Receiver<FeedPosition> {
        self.end.subscribe()
    }

    /// Where the next read starts: the window's end, `None` before the first read.
    pub(crate) fn end(&self) -> Option<FeedPosition> {
        let inner = self.inner.read().expect("window lock");
        inner.start.map(|_| inner.end)
    }

    /// Forgets what it holds: the projectors read on their own until the next read starts it
    /// again (after a failed read, or once the instance leads projectors again).
    pub(crate) fn forget(&self) {
        let mut inner = self.inner.write().expect("window lock");
        *inner = Inner {
            start: None,
            end: FeedPosition::default(),
            events: VecDeque::new(),
            bytes: 0,
        };
    }

    /// Starts the window at `at` (the feed's head below the horizon), empty.
    pub(crate) fn start_at(&self, at: FeedPosition) {
        let mut inner = self.inner.write().expect("window lock");
        *inner = Inner {
            start: Some(at),
            end: at,
            events: VecDeque::new(),
            bytes: 0,
        };
    }

    /// Appends `events`, the feed's next ones after `after` (the window's end when read), and
    /// tells the projectors when the end moved.
    pub(crate) fn extend(&self, after: FeedPosition, events: Vec<StoredEvent>) {
        let Some(last) = events.last().map(|e| e.at) else {
            return;
        };
        {
            let mut inner = self.inner.write().expect("window lock");
            if inner.start.is_none() || inner.end != after {
                // Not the continuation of what it holds (cannot happen with one reader): start
                // again from what was read.
                *inner = Inner {
                    start: Some(after),
                    end: after,
                    events: VecDeque::new(),
                    bytes: 0,
                };
            }
            inner.bytes += events.iter().map(size).sum::<usize>();
            inner.events.extend(events);
            inner.end = last;
            while inner.events.len() > self.cap || inner.bytes > self.cap_bytes {
                let Some(dropped) = inner.events.pop_front() else {
                    break;
                };
                inner.bytes -= size(&dropped);
                inner.start = Some(dropped.at);
            }
        }
        self.end.send_replace(last);
    }

    /// What lies past `after` for a reader of `types`.
    pub(crate) fn ahead(&self, after: FeedPosition, types: &[&str]) -> Ahead {
        let inner = self.inner.read().expect("window lock");
        if inner.start.is_some_and(|start| after < start) {
            return Ahead::Behind;
        }
        let Some(from) = inner.first_after(after) else {
            return Ahead::Unknown;
        };
        let wanted = (inner.events.range(from..)).any(|e| types.contains(&e.event_type.as_str()));
        if wanted {
            Ahead::Something
        } else {
            Ahead::Nothing { end: inner.end }
        }
    }

    /// Up to `limit` events past `after` (those of `types`, copied), or `None` when the window
    /// does not reach back to `after`.
    pub(crate) fn after(&self, after: FeedPosition, types: &[&str], limit: usize) -> Option<Slice> {
        let inner = self.inner.read().expect("window lock");
        let from = inner.first_after(after)?;
        let spanned = inner.events.range(from..).take(limit.max(1));
        let mut slice = Slice {
            events: Vec::new(),
            read: 0,
            end: after,
        };
        for event in spanned {
            slice.read += 1;
            slice.end = event.at;
            if types.contains(&event.event_type.as_str()) {
                slice.events.push(event.clone());
            }
        }
        Some(slice)
    }
}

impl Inner {
    /// The index of the first event past `after`, when the window covers `after`.
    fn first_after(&self, after: FeedPosition) -> Option<usize> {
        let start = self.start?;
        if after < start || after > self.end {
            return None;
        }
        Some(self.events.partition_point(|e| e.at <= after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(position: i64) -> FeedPosition {
        FeedPosition {
            transaction_id: 100 + position as u64 / 2,
            position,
        }
    }

    fn event(position: i64, event_type: &str) -> StoredEvent {
        StoredEvent {
            at: at(position),
            aggregate_type: "Task".into(),
            aggregate_id: "t".into(),
            sequence: position,
            event_type: event_type.into(),
            event_version: "1.0".into(),
            payload: Some("{}".into()),
            metadata: None,
            recorded_at: chrono::Utc::now(),
            hash: None,
        }
    }

    fn positions(slice: &Slice) -> Vec<i64> {
        slice.events.iter().map(|e| e.at.position).collect()
    }

    #[test]
    fn before_its_first_read_the_window_knows_nothing() {
        let window = Window::new(10, usize::MAX);
        assert_eq!(window.end(), None);
        assert_eq!(window.ahead(at(0), &["A"]), Ahead::Unknown);
        assert!(window.after(at(0), &["A"], 10).is_none());
    }

    #[test]
    fn a_reader_gets_the_events_of_its_types_past_its_place_and_where_they_end() {
        let window = Window::new(10, usize::MAX);
        window.start_at(at(1));
        window.extend(at(1), vec![event(2, "A"), event(3, "B"), event(4, "A")]);
        window.extend(at(4), vec![event(5, "B")]);
        assert_eq!(window.end(), Some(at(5)));
        let slice = window.after(at(2), &["A"], 10).unwrap();
        assert_eq!(
            (positions(&slice), slice.read, slice.end),
            (vec![4], 3, at(5))
        );
        let limited = window.after(at(1), &["A", "B"], 2).unwrap();
        assert_eq!(
            (positions(&limited), limited.read, limited.end),
            (vec![2, 3], 2, at(3))
        );
        // At the end: nothing past it, and the place stays.
        let empty = window.after(at(5), &["A"], 10).unwrap();
        assert_eq!((empty.read, empty.end), (0, at(5)));
    }

    #[test]
    fn a_reader_with_nothing_of_its_types_ahead_learns_how_far_it_may_pass_over() {
        let window = Window::new(10, usize::MAX);
        window.start_at(at(1));
        window.extend(at(1), vec![event(2, "A"), event(3, "B")]);
        assert_eq!(window.ahead(at(1), &["A"]), Ahead::Something);
        assert_eq!(window.ahead(at(2), &["A"]), Ahead::Nothing { end: at(3) });
        assert_eq!(window.ahead(at(3), &["B"]), Ahead::Nothing { end: at(3) });
        assert_eq!(window.ahead(at(2), &["B"]), Ahead::Something);
    }

    #[test]
    fn a_place_before_the_window_or_past_its_end_is_for_the_feed_to_answer() {
        let window = Window::new(2, usize::MAX);
        window.start_at(at(1));
        window.extend(at(1), vec![event(2, "A"), event(3, "A"), event(4, "A")]);
        // It keeps two events: the feed after 2 up to 4.
        assert_eq!(window.ahead(at(1), &["A"]), Ahead::Behind);
        assert!(window.after(at(1), &["A"], 10).is_none());
        assert_eq!(
            positions(&window.after(at(2), &["A"], 10).unwrap()),
            vec![3, 4]
        );
        assert_eq!(window.ahead(at(6), &["A"]), Ahead::Unknown);
    }

    #[test]
    fn a_window_forgotten_knows_nothing_until_it_starts_again() {
        let window = Window::new(10, usize::MAX);
        window.start_at(at(1));
        window.extend(at(1), vec![event(2, "A")]);
        window.forget();
        assert_eq!(window.end(), None);
        assert_eq!(window.ahead(at(1), &["A"]), Ahead::Unknown);
        assert!(window.after(at(1), &["A"], 10).is_none());
    }

    #[test]
    fn large_events_are_kept_to_the_byte_budget() {
        let big = |position| StoredEvent {
            payload: Some("x".repeat(1000)),
            ..event(position, "A")
        };
        let window = Window::new(10, 3000);
        window.start_at(at(1));
        window.extend(at(1), vec![big(2), big(3), big(4)]);
        // Two of them fit (each a little over 1,000 bytes): the feed after 2 up to 4.
        assert!(window.after(at(1), &["A"], 10).is_none());
        assert_eq!(
            positions(&window.after(at(2), &["A"], 10).unwrap()),
            vec![3, 4]
        );
    }

    #[test]
    fn the_end_is_told_to_those_who_wait_only_when_events_came() {
        let window = Window::new(10, usize::MAX);
        let mut end = window.subscribe();
        window.start_at(at(1));
        window.extend(at(1), vec![]);
        assert!(!end.has_changed().unwrap());
        window.extend(at(1), vec![event(2, "A")]);
        assert!(end.has_changed().unwrap());
        assert_eq!(*end.borrow_and_update(), at(2));
    }
}
