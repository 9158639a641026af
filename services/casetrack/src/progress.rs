//! How long work says how far it has got: `import police-feed`, `import history`, `rebuild` and `demo`.
//!
//! On a terminal, a bar on standard error with the count, the rate and the time remaining (`indicatif`). Anywhere
//! else (a log file, a pipe, systemd's journal), plain lines on standard error: one every [`PLAIN_EVERY`] while the
//! count moves, one at each tenth of the way, and one at the end. Standard output keeps only the results, so a
//! script reading them is never fed a bar.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a plain line is written while the count moves.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// One piece of long work being counted. Cheap to share: every method takes `&self`.
pub struct Progress {
    inner: Arc<Inner>,
    ticker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct Inner {
    what: String,
    unit: &'static str,
    total: AtomicU64,
    position: AtomicU64,
    started: Instant,
    finished: AtomicBool,
    /// The bar, on a terminal; `None` writes plain lines.
    bar: Option<indicatif::ProgressBar>,
    /// The last tenth a plain line was written at, and when.
    last: Mutex<(u64, Instant)>,
}

impl Progress {
    /// Starts counting `total` `unit`s (`"rows"`, `"commits"`) of `what` (`"import police-feed"`): a bar when
    /// standard error is a terminal, plain lines otherwise.
    pub fn start(what: impl Into<String>, unit: &'static str, total: u64) -> Self {
        Self::with_bar(what, unit, total, std::io::stderr().is_terminal())
    }

    /// [`Progress::start`] with plain lines whatever standard error is (for tests and benchmarks).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn plain(what: impl Into<String>, unit: &'static str, total: u64) -> Self {
        Self::with_bar(what, unit, total, false)
    }

    fn with_bar(what: impl Into<String>, unit: &'static str, total: u64, bar: bool) -> Self {
        let what = what.into();
        let bar = bar.then(|| {
            let template = format!(
                "{{msg}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} {unit} {{per_sec}} ({{eta}} left)"
            );
            let style = indicatif::ProgressStyle::with_template(&template).expect("a valid template");
            let bar = indicatif::ProgressBar::new(total).with_style(style).with_message(what.clone());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let started = Instant::now();
        let inner = Arc::new(Inner {
            what,
            unit,
            total: AtomicU64::new(total),
            position: AtomicU64::new(0),
            started,
            finished: AtomicBool::new(false),
            bar,
            last: Mutex::new((0, started)),
        });
        // Plain lines on a timer, so that a count that moves in large steps (or a quiet stretch) still says
        // where it is every few seconds.
        let ticker = inner.bar.is_none().then(|| {
            let inner = inner.clone();
            std::thread::spawn(move || {
                while !inner.finished.load(Ordering::Acquire) {
                    std::thread::sleep(Duration::from_millis(250));
                    inner.maybe_line();
                }
            })
        });
        Self { inner, ticker: Mutex::new(ticker) }
    }

    /// Adds `delta` to the count.
    pub fn inc(&self, delta: u64) {
        self.inner.position.fetch_add(delta, Ordering::Relaxed);
        self.moved();
    }

    /// Sets the count (work measured from outside, such as a log's head).
    pub fn set(&self, position: u64) {
        self.inner.position.store(position, Ordering::Relaxed);
        self.moved();
    }

    pub fn position(&self) -> u64 {
        self.inner.position.load(Ordering::Relaxed)
    }

    fn moved(&self) {
        match &self.inner.bar {
            Some(bar) => bar.set_position(self.position()),
            None => self.inner.maybe_line(),
        }
    }

    /// Ends the count with a last line: how many, how long, how fast.
    pub fn finish(&self) {
        if self.inner.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        // Timed before the ticker is joined: it may be asleep for another quarter of a second.
        let done = self.inner.done_line();
        if let Some(ticker) = self.ticker.lock().expect("not poisoned").take() {
            let _ = ticker.join();
        }
        if let Some(bar) = &self.inner.bar {
            bar.finish_and_clear();
        }
        eprintln!("{done}");
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Stops the ticker and clears the bar even when the work ended early (an error): no final line then.
        self.inner.finished.store(true, Ordering::Release);
        if let Some(bar) = &self.inner.bar {
            bar.finish_and_clear();
        }
    }
}

impl Inner {
    /// Writes a plain line when the count crossed a tenth of the way or [`PLAIN_EVERY`] passed since the last.
    fn maybe_line(&self) {
        if self.bar.is_some() || self.finished.load(Ordering::Acquire) {
            return;
        }
        let position = self.position.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let tenth = (position.min(total) * 10).checked_div(total).unwrap_or(0);
        let mut last = self.last.lock().expect("not poisoned");
        let due = tenth > last.0 || (last.1.elapsed() >= PLAIN_EVERY && position > 0);
        if !due || tenth >= 10 {
            // The end is said once, by `finish`.
            return;
        }
        *last = (tenth.max(last.0), Instant::now());
        drop(last);
        eprintln!("{}", line(&self.what, self.unit, position, total, self.started.elapsed()));
    }

    fn done_line(&self) -> String {
        let position = self.position.load(Ordering::Relaxed);
        let elapsed = self.started.elapsed();
        format!(
            "{}: {} {} in {:.1} s ({}/s)",
            self.what,
            thousands(position),
            self.unit,
            elapsed.as_secs_f64(),
            thousands(rate(position, elapsed) as u64)
        )
    }
}

fn rate(position: u64, elapsed: Duration) -> f64 {
    position as f64 / elapsed.as_secs_f64().max(1e-3)
}

/// One plain line: `import police-feed: 45,000 of 100,000 rows (45%), 4,210 rows/s, about 13 s left`.
pub fn line(what: &str, unit: &str, position: u64, total: u64, elapsed: Duration) -> String {
    let per_second = rate(position, elapsed);
    let percent = (position.min(total) * 100).checked_div(total).unwrap_or(100);
    let left = if per_second > 0.0 && total > position {
        format!(", about {} s left", ((total - position) as f64 / per_second).ceil() as u64)
    } else {
        String::new()
    };
    format!(
        "{what}: {} of {} {unit} ({percent}%), {} {unit}/s{left}",
        thousands(position),
        thousands(total),
        thousands(per_second as u64)
    )
}

/// A count with thousands separators (12,345), as every page shows counts.
pub use casetrack_web::pages::thousands;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_gives_the_count_the_rate_and_the_time_left() {
        let text = line("import police-feed", "rows", 45_000, 100_000, Duration::from_secs(10));
        assert_eq!(text, "import police-feed: 45,000 of 100,000 rows (45%), 4,500 rows/s, about 13 s left");
        let done = line("rebuild", "commits", 10, 10, Duration::from_secs(1));
        assert_eq!(done, "rebuild: 10 of 10 commits (100%), 10 commits/s");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn counting_to_the_end_stops_the_ticker() {
        let progress = Progress::plain("test", "rows", 100);
        progress.inc(40);
        progress.set(100);
        assert_eq!(progress.position(), 100);
        progress.finish();
        progress.finish();
    }
}
