//! `operations timeline <collection> <id>`: an auditor's view of one entity in the terminal.

use anyhow::bail;
use serde_json::Value;

use crate::http::collections;
use crate::settings::TimelineSettings;
use crate::startup;

pub async fn timeline(settings: TimelineSettings) -> anyhow::Result<()> {
    let pool = startup::connect(&settings.database).await?;
    let id = settings.id;
    let collections = collections();
    let Some(about) = collections.iter().find(|c| c.path == settings.collection) else {
        let paths: Vec<&str> = collections.iter().map(|c| c.path).collect();
        bail!(
            "no collection `{}`; there are: {}",
            settings.collection,
            paths.join(", ")
        );
    };
    let rows = (about.history)(&pool, id).await?;
    if rows.is_empty() {
        bail!(
            "no {} with id {id} (or its history is not projected yet)",
            settings.collection
        );
    }
    print!("{}", render(&rows));
    Ok(())
}

/// One line per change: when, what, from and to, who, why.
fn render(rows: &[Value]) -> String {
    let text = |row: &Value, key: &str| match &row[key] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            let subject = [text(row, "kind"), text(row, "subject")].concat();
            let why = [text(row, "reason"), text(row, "note")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            [
                text(row, "changed_at"),
                if subject.is_empty() {
                    text(row, "event_type")
                } else {
                    format!("{subject} {}", text(row, "event_type"))
                },
                format!(
                    "{} -> {}",
                    match text(row, "from_status") {
                        s if s.is_empty() => "-".to_string(),
                        s => s,
                    },
                    text(row, "to_status")
                ),
                match text(row, "on_behalf_of") {
                    s if s.is_empty() => text(row, "actor"),
                    person => format!("{} for {person}", text(row, "actor")),
                },
                why,
                text(row, "position"),
            ]
        })
        .collect();
    let header = ["WHEN", "WHAT", "STATUS", "WHO", "WHY", "EVENT"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &table {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&table) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_timeline_lines_up_when_what_status_who_and_why() {
        let rows = [
            json!({"changed_at": "2026-11-22T10:00:00Z", "event_type": "TaskCreated",
                   "from_status": null, "to_status": "SCHEDULED", "actor": "dispatcher:ana",
                   "reason": null, "note": null, "position": 1}),
            json!({"changed_at": "2026-11-22T10:05:00Z", "event_type": "TaskCancelled",
                   "from_status": "SCHEDULED", "to_status": "CANCELLED", "actor": "ops:bo",
                   "on_behalf_of": "dispatcher:ana", "reason": "WEATHER", "note": "hail",
                   "position": 9}),
        ];
        let table = render(&rows);
        let lines: Vec<_> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("WHEN"));
        assert!(lines[1].contains("- -> SCHEDULED"));
        assert!(lines[2].contains("SCHEDULED -> CANCELLED"));
        assert!(lines[2].contains("WEATHER: hail"));
        let column = lines[0].find("WHO").unwrap();
        assert_eq!(&lines[2][column..column + 25], "ops:bo for dispatcher:ana");
    }
}
