//! Going through a long list a batch at a time: what a count, a dashboard or a job reads, however
//! long the list grows, in memory that does not grow with it, and with nothing left out past a
//! first batch.

/// Rows a batch holds: enough that a read costs little a row, few enough that a batch of
/// customers with their dates (about 1 KB each) stays within a couple of megabytes.
pub(crate) const BATCH: u32 = 2_000;

/// Where a read through a list a batch at a time stands: `next` gives the key to read after
/// (`from` for the first batch, then the key of the last row read), until a batch came back
/// shorter than asked, which was the last.
///
/// ```ignore
/// let mut batches = Batches::new(None, BATCH);
/// while let Some(after) = batches.next() {
///     let rows = store::hazards(conn, scope, filter, after, BATCH).await?;
///     batches.read(&rows, |h| h.id);
///     rows.into_iter().for_each(&mut each);
/// }
/// ```
/// (A loop, not a function taking an async closure: a future holding one is not `Send` for
/// every lifetime, which the server's handlers need.)
pub(crate) struct Batches<K> {
    batch: usize,
    after: Option<K>,
    done: bool,
}

impl<K: Clone> Batches<K> {
    pub(crate) fn new(from: Option<K>, batch: u32) -> Self {
        Self { batch: usize::try_from(batch).unwrap_or(usize::MAX), after: from, done: false }
    }

    /// The key the next batch starts after (`None`: from the start), or `None` when done.
    pub(crate) fn next(&mut self) -> Option<Option<K>> {
        (!self.done).then(|| self.after.clone())
    }

    /// Takes note of a batch read.
    pub(crate) fn read<T>(&mut self, rows: &[T], key: impl Fn(&T) -> K) {
        self.done = rows.len() < self.batch;
        if let Some(last) = rows.last() {
            self.after = Some(key(last));
        }
    }
}

/// The `n` rows of least key among those it is offered (a page of a list judged row by row, the
/// latest of a month with `Reverse` keys), in memory of `n` rows however many are offered.
pub(crate) struct Least<K: Ord, T> {
    n: usize,
    // The greatest kept on top, to give way to a lesser one.
    kept: std::collections::BinaryHeap<Keyed<K, T>>,
}

struct Keyed<K, T>(K, T);

impl<K: Ord, T> PartialEq for Keyed<K, T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K: Ord, T> Eq for Keyed<K, T> {}

impl<K: Ord, T> PartialOrd for Keyed<K, T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord, T> Ord for Keyed<K, T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl<K: Ord, T> Least<K, T> {
    pub(crate) fn new(n: usize) -> Self {
        Self { n, kept: std::collections::BinaryHeap::with_capacity(n.saturating_add(1).min(10_000)) }
    }

    pub(crate) fn offer(&mut self, key: K, row: T) {
        if self.kept.len() < self.n {
            self.kept.push(Keyed(key, row));
        } else if self.kept.peek().is_some_and(|top| key < top.0) {
            self.kept.pop();
            self.kept.push(Keyed(key, row));
        }
    }

    /// The kept rows, least key first.
    pub(crate) fn into_sorted(self) -> Vec<T> {
        self.kept.into_sorted_vec().into_iter().map(|Keyed(_, row)| row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows 1..=n read `batch` at a time by key, as the store's keyset reads do.
    fn walk(n: u32, batch: u32) -> (Vec<u32>, usize) {
        let (mut seen, mut reads) = (Vec::new(), 0);
        let mut batches = Batches::new(None, batch);
        while let Some(after) = batches.next() {
            reads += 1;
            let rows: Vec<u32> = (after.map_or(1, |a| a + 1)..=n).take(batch as usize).collect();
            batches.read(&rows, |r| *r);
            seen.extend(rows);
        }
        (seen, reads)
    }

    #[test]
    fn every_row_once_in_order_whatever_the_batch() {
        for (n, batch) in [(0, 3), (1, 3), (3, 3), (7, 3), (6, 1), (5, 100)] {
            let (seen, reads) = walk(n, batch);
            assert_eq!(seen, (1..=n).collect::<Vec<_>>(), "{n} rows by {batch}");
            // A full last batch costs one read more, which finds nothing.
            assert_eq!(reads, n as usize / batch as usize + 1, "{n} rows by {batch}");
        }
    }

    #[test]
    fn a_read_starts_after_its_first_key() {
        let mut batches = Batches::new(Some(4), 10);
        assert_eq!(batches.next(), Some(Some(4)));
        batches.read(&[5, 6], |r| *r);
        assert_eq!(batches.next(), None, "a short batch was the last");
    }

    #[test]
    fn the_least_are_kept_in_order() {
        let mut least = Least::new(3);
        for (key, row) in [(5, 'e'), (1, 'a'), (4, 'd'), (2, 'b'), (9, 'i'), (3, 'c')] {
            least.offer(key, row);
        }
        assert_eq!(least.into_sorted(), ['a', 'b', 'c']);
        let mut none = Least::new(0);
        none.offer(1, 'a');
        assert!(none.into_sorted().is_empty());
        let mut latest = Least::new(2);
        for day in [3, 1, 4, 1, 5] {
            latest.offer(std::cmp::Reverse(day), day);
        }
        assert_eq!(latest.into_sorted(), [5, 4], "the greatest first, with Reverse keys");
    }
}
