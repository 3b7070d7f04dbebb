//! One simulated target: its values, how they move on each scrape, churn, and rendering.

use std::sync::Arc;
use std::time::Duration;

use super::gofloat::write_float;
use super::layout::{Layout, Model, Unit, SUMMARY_QUANTILES};
use super::rng::{mix, Rng};

/// The label that churn adds to every series; its value changes when a metric is replaced.
pub const CHURN_LABEL: &str = "pod";

/// Golden-ratio step: spreads the metrics' churn phases evenly over a minute.
const PHASE_STEP: f64 = 0.618_033_988_749_894_9;

/// One simulated host. Each [`Target::scrape`] advances every value one step and renders the
/// result, so the body depends only on the seed, the target's index, the number of scrapes so
/// far and (with churn) the simulated time.
#[derive(Debug)]
pub struct Target {
    layout: Arc<Layout>,
    rng: Rng,
    /// Per line, in ticks (see `Model`).
    values: Vec<f64>,
    /// Per metric, the churn generation it was last rendered with; empty without churn.
    generations: Vec<u64>,
    /// Replacements per metric per second.
    churn_per_sec: f64,
    /// Offsets this target's churn phases so targets don't churn in lock-step.
    phase_offset: f64,
    salt: u64,
    scrapes: u64,
}

impl Target {
    /// Target number `index` of a run with `seed`; `churn_pct_per_min` of its series are replaced
    /// by series with a new `pod` label value per minute (0 disables churn and the label).
    pub fn new(layout: Arc<Layout>, seed: u64, index: u32, churn_pct_per_min: f64) -> Target {
        let salt = mix(seed ^ mix(u64::from(index) + 1));
        let mut rng = Rng::new(salt);
        let churn = churn_pct_per_min.is_finite() && churn_pct_per_min > 0.0;
        let phase_offset = rng.unit();
        let mut t = Target {
            values: vec![0.0; layout.lines.len()],
            generations: if churn { vec![0; layout.units.len()] } else { Vec::new() },
            churn_per_sec: if churn { churn_pct_per_min / 100.0 / 60.0 } else { 0.0 },
            phase_offset,
            salt,
            scrapes: 0,
            rng,
            layout,
        };
        for u in 0..t.layout.units.len() {
            t.reset_unit(u, true);
        }
        t
    }

    /// Sample lines per scrape.
    pub fn series(&self) -> usize {
        self.layout.lines.len()
    }

    /// Scrapes served so far.
    pub fn scrapes(&self) -> u64 {
        self.scrapes
    }

    /// Advances every value one step, applies churn due at `elapsed` (time since the run began)
    /// and appends the Prometheus text 0.0.4 body to `out`. Allocates nothing once `out` has
    /// grown to a body's size.
    pub fn scrape(&mut self, elapsed: Duration, out: &mut Vec<u8>) {
        self.scrapes += 1;
        if !self.generations.is_empty() {
            self.apply_churn(elapsed.as_secs_f64());
        }
        let Target {
            layout, rng, values, ..
        } = self;
        for Unit { model, lines } in &layout.units {
            advance(model, &mut values[lines.clone()], rng);
        }
        self.render(out);
    }

    /// The churn generation of metric `u` at `secs`: it rises by one, at an evenly spread
    /// phase, every `1 / churn_per_sec` seconds, so replacements are smooth over the minute.
    fn generation(&self, u: usize, secs: f64) -> u64 {
        let phase = (u as f64 * PHASE_STEP + self.phase_offset).fract();
        (secs * self.churn_per_sec + phase) as u64
    }

    fn apply_churn(&mut self, secs: f64) {
        for u in 0..self.layout.units.len() {
            let g = self.generation(u, secs);
            if g != self.generations[u] {
                self.generations[u] = g;
                self.reset_unit(u, false);
            }
        }
    }

    fn reset_unit(&mut self, u: usize, fresh: bool) {
        let Target {
            layout, rng, values, ..
        } = self;
        let Unit { model, lines } = &layout.units[u];
        reset(model, &mut values[lines.clone()], rng, fresh);
    }

    fn render(&self, out: &mut Vec<u8>) {
        let layout = &*self.layout;
        let churn = !self.generations.is_empty();
        let mut pod = [0u8; 12];
        for fam in &layout.families {
            out.extend_from_slice(&fam.header);
            for u in fam.units.clone() {
                let unit = &layout.units[u];
                if churn {
                    pod_value(&mut pod, mix(self.salt ^ mix(((u as u64) << 20) ^ self.generations[u])));
                }
                for l in unit.lines.clone() {
                    let line = &layout.lines[l];
                    if churn {
                        out.extend_from_slice(&line.text[..line.open]);
                        out.extend_from_slice(if line.labelled { b",pod=\"" } else { b"{pod=\"" });
                        out.extend_from_slice(&pod);
                        out.extend_from_slice(b"\"} ");
                    } else {
                        out.extend_from_slice(&line.text);
                    }
                    let v = self.values[l];
                    write_float(out, if line.div == 1.0 { v } else { v / line.div });
                    out.push(b'\n');
                }
            }
        }
    }
}

/// Sets a metric's starting values: an established host's (`fresh`) or a just-started
/// replacement's, whose counters begin near zero.
fn reset(model: &Model, vals: &mut [f64], rng: &mut Rng, fresh: bool) {
    match model {
        Model::Counter { start, mean_inc, .. } => {
            let base = if fresh { *start } else { mean_inc * 3.0 };
            vals[0] = (base * (0.5 + rng.unit())).floor();
        }
        Model::Gauge { start, lo, hi, .. } => {
            vals[0] = (start + (hi - lo) * 0.05 * rng.signed_unit()).round().clamp(*lo, *hi);
        }
        Model::Constant { value } => vals[0] = *value,
        Model::Histogram { .. } | Model::Summary { .. } => {
            vals.fill(0.0);
            if fresh {
                // An established host has history: a few thousand scrapes' worth.
                let n = (2000.0 * (0.5 + rng.unit())).floor();
                observe(model, vals, rng, n);
            }
        }
    }
}

/// One scrape's worth of change.
fn advance(model: &Model, vals: &mut [f64], rng: &mut Rng) {
    match model {
        Model::Counter { mean_inc, .. } => {
            vals[0] += (rng.unit() * (2.0 * mean_inc + 1.0)).floor();
        }
        Model::Gauge { lo, hi, step, .. } => {
            let by = 1.0 + (rng.unit() * step).floor();
            let v = vals[0];
            let (a, b) = if rng.unit() < 0.5 {
                (v + by, v - by)
            } else {
                (v - by, v + by)
            };
            // Reflect at the bounds; a range narrower than the step moves by one tick.
            vals[0] = if (*lo..=*hi).contains(&a) {
                a
            } else if (*lo..=*hi).contains(&b) {
                b
            } else if v > *lo {
                lo.max(v - 1.0)
            } else {
                hi.min(v + 1.0)
            };
        }
        Model::Constant { .. } => {}
        Model::Histogram { mean_obs, .. } | Model::Summary { mean_obs, .. } => {
            let n = (rng.unit() * (2.0 * mean_obs + 1.0)).floor();
            observe(model, vals, rng, n);
        }
    }
}

/// Adds `n` observations to a histogram's or summary's lines.
fn observe(model: &Model, vals: &mut [f64], rng: &mut Rng, n: f64) {
    match model {
        Model::Histogram { bounds, median, .. } => {
            // One shared offset keeps the cumulative counts monotone across buckets.
            let v = rng.unit();
            for (slot, b) in vals.iter_mut().zip(bounds.iter()) {
                let r = median / b;
                let cdf = 1.0 / (1.0 + r * r);
                *slot += (n * cdf + v).floor().min(n);
            }
            let nb = bounds.len();
            vals[nb] += n;
            vals[nb + 1] += n * median * (0.6 + 0.8 * rng.unit());
            vals[nb + 2] += n;
        }
        Model::Summary { median, .. } => {
            // Quantiles describe recent observations: drawn fresh, increasing.
            let mut q = median * (0.2 + 0.3 * rng.unit());
            let nq = SUMMARY_QUANTILES.len();
            for slot in vals.iter_mut().take(nq) {
                *slot = q;
                q += median * (0.1 + 0.9 * rng.unit());
            }
            vals[nq] += n * median * (0.8 + 0.4 * rng.unit());
            vals[nq + 1] += n;
        }
        _ => {}
    }
}

/// `pod-` and eight hex digits of `h`.
fn pod_value(out: &mut [u8; 12], h: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out[..4].copy_from_slice(b"pod-");
    for i in 0..8 {
        out[4 + i] = HEX[((h >> (60 - 4 * i)) & 0xf) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(t: &mut Target, secs: u64) -> String {
        let mut out = Vec::new();
        t.scrape(Duration::from_secs(secs), &mut out);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn same_seed_and_scrape_count_give_the_same_body() {
        let layout = Arc::new(Layout::node_like(300));
        let mut a = Target::new(layout.clone(), 42, 3, 0.0);
        let mut b = Target::new(layout.clone(), 42, 3, 0.0);
        let mut c = Target::new(layout, 43, 3, 0.0);
        for s in 0..3 {
            let x = body(&mut a, s * 10);
            assert_eq!(x, body(&mut b, s * 10));
            assert_ne!(x, body(&mut c, s * 10));
        }
        assert_eq!(a.scrapes(), 3);
    }

    #[test]
    fn every_line_has_a_value_and_a_newline() {
        let layout = Arc::new(Layout::node_like(500));
        let mut t = Target::new(layout, 1, 0, 50.0);
        let text = body(&mut t, 0);
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(samples.len(), 500);
        for l in samples {
            let (series, value) = l.rsplit_once(' ').expect("space before the value");
            assert!(series.contains(&format!("{CHURN_LABEL}=\"pod-")), "{l}");
            assert!(value.parse::<f64>().is_ok() || value == "+Inf" || value == "NaN", "{l}");
        }
    }

    #[test]
    fn pod_values_are_hex() {
        let mut p = [0u8; 12];
        pod_value(&mut p, 0x0123_4567_89ab_cdef);
        assert_eq!(&p, b"pod-01234567");
    }
}
