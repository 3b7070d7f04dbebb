//! Scraping: pools per job, one loop per target, and the path from a
//! scraped body to appended samples (DESIGN §5, spec §2).

mod append;
mod cache;
mod manager;
mod scrape_loop;

pub use append::{AppendReport, Limits, Metadata, SampleRules, TargetAppender};
pub use manager::{accept_header, ActiveTarget, DroppedInfo, ScrapeManager, TargetMetadata, TargetsSnapshot};
pub use scrape_loop::{align, format_seconds, initial_delay, Health, LoopSettings, Stop, TargetState};
