//! SVG plots (plotters, SVG backend only): network size over time (online
//! peers, cumulative joins and leaves) and subscribers reached over time,
//! one line per fan-out policy. With several seeds each point is the mean
//! over seeds.

use plotters::prelude::*;

use crate::metrics::RunResult;
use crate::scenario::Scenario;

/// A time series averaged over runs (same sampling in every run).
#[derive(Clone, Debug, Default)]
pub struct MeanSeries {
    /// Time (s).
    pub t: Vec<f64>,
    /// Online peers.
    pub online: Vec<f64>,
    /// Cumulative joins.
    pub joins: Vec<f64>,
    /// Cumulative leaves.
    pub leaves: Vec<f64>,
    /// Reached ÷ eligible subscribers, %.
    pub reached_pct: Vec<f64>,
}

impl MeanSeries {
    /// The mean of the runs' series.
    pub fn of(runs: &[&RunResult]) -> MeanSeries {
        let len = runs.iter().map(|r| r.series.len()).min().unwrap_or(0);
        let n = runs.len().max(1) as f64;
        let mut m = MeanSeries::default();
        for i in 0..len {
            let s0 = &runs[0].series[i];
            m.t.push(s0.t as f64 / 1000.0);
            let avg = |f: &dyn Fn(&crate::metrics::Sample) -> f64| {
                runs.iter().map(|r| f(&r.series[i])).sum::<f64>() / n
            };
            m.online.push(avg(&|s| s.online as f64));
            m.joins.push(avg(&|s| s.joins as f64));
            m.leaves.push(avg(&|s| s.leaves as f64));
            m.reached_pct.push(avg(&|s| {
                if s.eligible == 0 {
                    0.0
                } else {
                    100.0 * s.reached as f64 / s.eligible as f64
                }
            }));
        }
        m
    }
}

const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// Writes the two-panel SVG for `runs` (any number of seeds and policies).
pub fn write_svg(path: &std::path::Path, scn: &Scenario, runs: &[RunResult]) -> Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let mut policies: Vec<String> = Vec::new();
    for r in runs {
        if !policies.contains(&r.policy) {
            policies.push(r.policy.clone());
        }
    }
    let per: Vec<(String, MeanSeries)> = policies
        .iter()
        .map(|p| {
            let group: Vec<&RunResult> = runs.iter().filter(|r| &r.policy == p).collect();
            (p.clone(), MeanSeries::of(&group))
        })
        .collect();
    let Some((_, first)) = per.first() else {
        return Err("no runs to plot".into());
    };
    let seeds = runs.iter().filter(|r| r.policy == policies[0]).count();
    let xmax = first.t.last().copied().unwrap_or(1.0).max(1.0);
    let ymax = first
        .online
        .iter()
        .chain(first.joins.iter())
        .chain(first.leaves.iter())
        .copied()
        .fold(1.0f64, f64::max)
        * 1.1;

    let root = SVGBackend::new(path, (960, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let (top, bottom) = root.split_vertically(380);
    let title = format!(
        "{}: network size over time ({} seed{})",
        scn.name,
        seeds,
        if seeds == 1 { "" } else { "s, mean" }
    );
    let mut c = ChartBuilder::on(&top)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..xmax, 0f64..ymax)
        .map_err(|x| e(&x))?;
    c.configure_mesh()
        .x_desc("time (s)")
        .y_desc("peers")
        .draw()
        .map_err(|x| e(&x))?;
    let lines: [(&str, &Vec<f64>, RGBColor); 3] = [
        ("online", &first.online, COLORS[0]),
        ("joins (cumulative)", &first.joins, COLORS[2]),
        ("leaves (cumulative)", &first.leaves, COLORS[1]),
    ];
    for (name, ys, col) in lines {
        c.draw_series(LineSeries::new(
            first.t.iter().copied().zip(ys.iter().copied()),
            col.stroke_width(2),
        ))
        .map_err(|x| e(&x))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2)));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|x| e(&x))?;

    let mut c2 = ChartBuilder::on(&bottom)
        .caption(
            "subscribers reached (first message, % of the eligible subscribers online)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..xmax, 0f64..105f64)
        .map_err(|x| e(&x))?;
    c2.configure_mesh()
        .x_desc("time (s)")
        .y_desc("% reached")
        .draw()
        .map_err(|x| e(&x))?;
    let w = &scn.workload;
    let mut marks = vec![(w.publish_at_ms as f64 / 1000.0, "publish")];
    if w.query_at_ms > 0 {
        marks.push((w.query_at_ms as f64 / 1000.0, "queries"));
    }
    for (x, label) in marks {
        c2.draw_series(LineSeries::new(
            vec![(x, 0.0), (x, 100.0)],
            BLACK.mix(0.4).stroke_width(1),
        ))
        .map_err(|x| e(&x))?;
        c2.draw_series(std::iter::once(Text::new(
            label.to_string(),
            (x + 0.1, 4.0),
            ("sans-serif", 13).into_font(),
        )))
        .map_err(|x| e(&x))?;
    }
    for (i, (name, s)) in per.iter().enumerate() {
        let col = COLORS[i % COLORS.len()];
        let start = w.publish_at_ms as f64 / 1000.0;
        c2.draw_series(LineSeries::new(
            s.t.iter()
                .copied()
                .zip(s.reached_pct.iter().copied())
                .filter(move |(t, _)| *t >= start),
            col.stroke_width(2),
        ))
        .map_err(|x| e(&x))?
        .label(name.as_str())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2)));
    }
    c2.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}
