//! The load test's chart, drawn with plotters as a PNG and an SVG beside it.
//!
//! It shows, over the seconds of the run, the POST → record latency of every event as one
//! dot, one colour per event kind (left axis, ms), and on the right axis the Salesforce API
//! calls per second that the simulator counted, under a dashed line at the limiter's budget
//! (`SF_CALLS_PER_WINDOW` per `SF_WINDOW_MS`). Title, axis names with units, a legend and a
//! footnote say so on the picture itself.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (`testkit/assets/`, licence beside
//! it) through plotters' `ab_glyph` feature, so the chart draws the same on a machine without
//! fonts, fontconfig or freetype.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use anyhow::{anyhow, bail, Context};
use plotters::{
    coord::Shift,
    prelude::*,
    style::{
        register_font,
        text_anchor::{HPos, Pos, VPos},
        FontStyle,
    },
};

/// The chart's title.
pub const TITLE: &str = "Load test: Stripe POST → Salesforce record latency of each event";
/// The x axis: when the event's first POST was due.
pub const X_LABEL: &str = "seconds since start (s)";
/// The left y axis: the latency of each event.
pub const Y_LABEL: &str = "POST → record latency (ms)";
/// The right y axis: what the limiter bounds.
pub const CALLS_LABEL: &str = "Salesforce API calls per second";

/// What the footnote says a dot is.
const FOOTNOTE: &str = "Each dot is one event: from when its first POST was due to the first \
                        Salesforce write carrying it (the simulator's history). Versions \
                        overwritten before they were written have no dot.";

/// DejaVu Sans 2.37 (Bitstream Vera licence, `testkit/assets/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// The family name the embedded font is registered under.
const FAMILY: &str = "sans-serif";
/// Picture size in pixels (the SVG has the same user units).
const SIZE: (u32, u32) = (1200, 700);
/// Height of the footnote strip under the plot.
const FOOTNOTE_HEIGHT: u32 = 34;
/// Colours of the event kinds, in series order (payments, customers, subscriptions).
const KIND_COLOURS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];
/// The calls-per-second line.
const CALLS_COLOUR: RGBColor = RGBColor(120, 120, 120);
/// The budget line.
const BUDGET_COLOUR: RGBColor = RGBColor(214, 39, 40);

/// One point: seconds since the start, then latency in milliseconds (or calls per second).
pub type Point = (f64, f64);

/// The latencies of one event kind.
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend's name for the kind, e.g. `payments (payment_intent.succeeded)`.
    pub label: String,
    /// One point per event that reached Salesforce.
    pub points: Vec<Point>,
}

/// The fleet's global Salesforce call budget: at most `calls_per_window` calls in any
/// `window_ms` (the workers' `SF_CALLS_PER_WINDOW` and `SF_WINDOW_MS`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Budget {
    /// Calls allowed in any window (the workers' `SF_CALLS_PER_WINDOW`).
    pub calls_per_window: u64,
    /// The window's length in milliseconds (the workers' `SF_WINDOW_MS`).
    pub window_ms: u64,
}

impl Default for Budget {
    /// The fleet's defaults: 25 calls per 1,000 ms.
    fn default() -> Self {
        Self {
            calls_per_window: 25,
            window_ms: 1000,
        }
    }
}

impl Budget {
    /// The budget as a rate, for the calls-per-second axis.
    pub fn per_second(&self) -> f64 {
        self.calls_per_window as f64 * 1000.0 / self.window_ms.max(1) as f64
    }

    /// The legend's text for the budget line.
    pub fn label(&self) -> String {
        format!(
            "limiter budget: {} calls per {} ms (SF_CALLS_PER_WINDOW / SF_WINDOW_MS) = {} calls/s",
            self.calls_per_window,
            self.window_ms,
            trim(self.per_second())
        )
    }
}

/// Everything the chart shows.
#[derive(Debug, Clone)]
pub struct LatencyChart {
    /// One series per event kind, drawn in [`KIND_COLOURS`] order.
    pub series: Vec<Series>,
    /// Salesforce API calls counted per second (x at the middle of each second); may be
    /// empty when the simulator has no timeline.
    pub calls_per_second: Vec<Point>,
    /// The limiter's budget, drawn as a dashed line on the calls axis.
    pub budget: Budget,
}

impl LatencyChart {
    /// Writes the chart as a PNG to `png` and as an SVG beside it (same name, `.svg`);
    /// returns the SVG's path.
    pub fn write(&self, png: &Path) -> anyhow::Result<PathBuf> {
        let svg = svg_beside(png)?;
        register_embedded_font()?;
        {
            let root = BitMapBackend::new(png, SIZE).into_drawing_area();
            self.draw(&root)
                .and_then(|()| root.present())
                .map_err(|error| anyhow!("drawing {}: {error}", png.display()))?;
        }
        {
            let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
            self.draw(&root)
                .and_then(|()| root.present())
                .map_err(|error| anyhow!("drawing {}: {error}", svg.display()))?;
        }
        Ok(svg)
    }

    /// Draws the whole picture on `root` (either backend).
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let (plot, footer) = root.split_vertically(SIZE.1 - FOOTNOTE_HEIGHT);
        let points = self.series.iter().flat_map(|s| s.points.iter());
        let max_x = points
            .clone()
            .map(|p| p.0)
            .chain(self.calls_per_second.iter().map(|p| p.0))
            .fold(1.0, f64::max);
        let max_ms = points.map(|p| p.1).fold(100.0, f64::max);
        let budget = self.budget.per_second();
        let max_calls = self
            .calls_per_second
            .iter()
            .map(|p| p.1)
            .fold(budget, f64::max);
        // Headroom above the data for the legend in the upper left.
        let mut chart = ChartBuilder::on(&plot)
            .caption(TITLE, (FAMILY, 24))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(78)
            .right_y_label_area_size(78)
            .build_cartesian_2d(0.0..max_x * 1.02, 0.0..max_ms * 1.45)?
            .set_secondary_coord(0.0..max_x * 1.02, 0.0..max_calls * 1.6);
        chart
            .configure_mesh()
            .x_desc(X_LABEL)
            .y_desc(Y_LABEL)
            .x_label_formatter(&|value| trim(*value))
            .y_label_formatter(&|value| trim(*value))
            .axis_desc_style((FAMILY, 16))
            .label_style((FAMILY, 13))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc(CALLS_LABEL)
            .y_label_formatter(&|value| trim(*value))
            .axis_desc_style((FAMILY, 16))
            .label_style((FAMILY, 13))
            .draw()?;
        if !self.calls_per_second.is_empty() {
            let style = CALLS_COLOUR.stroke_width(2);
            chart
                .draw_secondary_series(LineSeries::new(self.calls_per_second.clone(), style))?
                .label(format!(
                    "{CALLS_LABEL} counted by the simulator (right axis)"
                ))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
        let style = BUDGET_COLOUR.stroke_width(2);
        chart
            .draw_secondary_series(DashedLineSeries::new(
                [(0.0, budget), (max_x * 1.02, budget)],
                10,
                6,
                style,
            ))?
            .label(format!("{} (right axis)", self.budget.label()))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        chart.draw_secondary_series(std::iter::once(Text::new(
            format!("budget {} calls/s", trim(budget)),
            (max_x * 1.01, budget),
            (FAMILY, 14)
                .into_font()
                .color(&BUDGET_COLOUR)
                .pos(Pos::new(HPos::Right, VPos::Bottom)),
        )))?;
        for (series, colour) in self.series.iter().zip(KIND_COLOURS.iter().cycle()) {
            let style = colour.mix(0.75).filled();
            chart
                .draw_series(series.points.iter().map(|&p| Circle::new(p, 2, style)))?
                .label(format!("{} — {} events", series.label, series.points.len()))
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FAMILY, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        footer.draw_text(
            FOOTNOTE,
            &(FAMILY, 14).into_font().color(&BLACK.mix(0.75)),
            (14, 8),
        )
    }
}

/// The SVG's path: the PNG's with the extension `svg`.
pub fn svg_beside(png: &Path) -> anyhow::Result<PathBuf> {
    let svg = png.with_extension("svg");
    if svg == png {
        bail!(
            "{}: the chart path names the PNG; the SVG is written beside it",
            png.display()
        );
    }
    Ok(svg)
}

/// Registers the embedded font with plotters (once per process).
fn register_embedded_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(())
        .context("the embedded font (testkit/assets/DejaVuSans.ttf) does not parse")
}

/// `25` for 25.0, `12.5` for 12.5: numbers without a useless `.0` (budgets, tick labels).
fn trim(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's worth of made-up data: a one-second sawtooth per kind, calls just under the
    /// budget.
    fn synthetic() -> LatencyChart {
        let kinds = [
            ("payments (payment_intent.succeeded)", 0.0),
            ("customers (customer.updated)", 300.0),
            ("subscriptions (customer.subscription.updated)", 80.0),
        ];
        let series = kinds
            .iter()
            .enumerate()
            .map(|(k, (label, offset))| Series {
                label: (*label).to_owned(),
                points: (0..600u32)
                    .filter(|i| *i as usize % 3 == k)
                    .map(|i| {
                        let t = f64::from(i) / 40.0;
                        (t, offset + 100.0 + 900.0 * (1.0 - t.fract()))
                    })
                    .collect(),
            })
            .collect();
        let calls_per_second = (0..18).map(|s| (f64::from(s) + 0.5, 23.0)).collect();
        LatencyChart {
            series,
            calls_per_second,
            budget: Budget::default(),
        }
    }

    #[test]
    fn writes_a_labelled_png_and_svg() {
        // TESTKIT_CHART_DIR keeps the files for a look; by default a temporary folder.
        let keep = std::env::var_os("TESTKIT_CHART_DIR").map(PathBuf::from);
        let dir = keep.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("testkit-chart-{}", std::process::id()))
        });
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join("loadtest.png");
        let svg = synthetic().write(&png).unwrap();
        assert_eq!(svg, dir.join("loadtest.svg"));
        let png_bytes = std::fs::read(&png).unwrap();
        assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png_bytes.len() > 20_000, "PNG of {} bytes", png_bytes.len());
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(svg_text.len() > 20_000, "SVG of {} bytes", svg_text.len());
        for needle in [
            TITLE,
            X_LABEL,
            Y_LABEL,
            CALLS_LABEL,
            "payments",
            "customers",
        ] {
            assert!(svg_text.contains(needle), "the SVG lacks {needle:?}");
        }
        assert!(svg_text.contains("limiter budget: 25 calls per 1000 ms"));
        if keep.is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn the_svg_goes_beside_the_png() {
        assert_eq!(
            svg_beside(Path::new("target/bench/loadtest.png")).unwrap(),
            Path::new("target/bench/loadtest.svg")
        );
        assert!(svg_beside(Path::new("chart.svg")).is_err());
    }

    #[test]
    fn budgets_read_as_rates() {
        assert_eq!(Budget::default().per_second(), 25.0);
        let budget = Budget {
            calls_per_window: 5,
            window_ms: 400,
        };
        assert_eq!(trim(budget.per_second()), "12.5");
        assert!(budget.label().contains("5 calls per 400 ms"));
    }
}
