//! The trend chart: the IAM user count per day as an inline SVG line chart (plotters, SVG backend
//! only), one marker per day, the y axis from zero so that the way to zero shows.

use plotters::prelude::*;

use crate::model::TrendPoint;

/// Size of the chart in CSS pixels.
const SIZE: (u32, u32) = (880, 300);
const LINE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);

/// The SVG (`<svg ...>...</svg>`, no XML declaration) of the trend: a line through the days'
/// counts and a circle on each day, x labels the days, y labels the counts.
pub fn trend_svg(points: &[TrendPoint]) -> Result<String, String> {
    let mut svg = String::new();
    draw(points, &mut svg).map_err(|e| format!("trend chart: {e}"))?;
    Ok(svg)
}

fn draw(points: &[TrendPoint], out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let n = points.len() as i64;
    let max = points.iter().map(|p| p.users).max().unwrap_or(0);
    // Headroom above the highest point, and an axis that is never empty.
    let top = (max + max / 8).max(max + 1).max(4);
    let labels: Vec<String> = points.iter().map(|p| p.day.to_string()).collect();
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(56)
        // One slot of padding each side, so that one day or the edges are not on the frame.
        .build_cartesian_2d(-1i64..n, 0u64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(((n as usize) + 2).min(9))
        .x_label_formatter(&|x| {
            usize::try_from(*x)
                .ok()
                .and_then(|i| labels.get(i))
                .cloned()
                .unwrap_or_default()
        })
        .y_labels(6)
        .y_label_formatter(&|y| y.to_string())
        .y_desc("IAM users")
        .label_style(("sans-serif", 13))
        .draw()?;
    chart.draw_series(LineSeries::new(
        points.iter().enumerate().map(|(i, p)| (i as i64, p.users)),
        LINE.stroke_width(2),
    ))?;
    chart.draw_series(
        points
            .iter()
            .enumerate()
            .map(|(i, p)| Circle::new((i as i64, p.users), 4, LINE.filled())),
    )?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamwatch_core::inventory::Day;

    fn point(day: &str, users: u64) -> TrendPoint {
        TrendPoint {
            day: day.parse::<Day>().unwrap(),
            users,
            accounts: 1,
            failed: 0,
        }
    }

    #[test]
    fn one_circle_per_day() {
        for points in [
            vec![],
            vec![point("2026-12-01", 0)],
            vec![
                point("2026-11-29", 12),
                point("2026-11-30", 9),
                point("2026-12-01", 7),
            ],
        ] {
            let svg = trend_svg(&points).unwrap();
            assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
            assert_eq!(svg.matches("<circle").count(), points.len());
        }
    }
}
