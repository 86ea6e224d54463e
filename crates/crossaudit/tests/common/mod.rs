//! What the tests of both fast paths share: an export in the messy forms the spec allows.

/// Rows out of id order, Chinese headers (and values), a byte-order mark, CRLF, quoted cells (a list with commas
/// inside quotes), blank lines, and dates as an office writes them (`2025/3/7 9:05`).
pub fn make_messy(dir: &std::path::Path, seed: u64) {
    let headers: &[(&str, &str)] = &[
        ("order_id", "工单编号"),
        ("order_type", "业务类型"),
        ("customer_id", "户号"),
        ("org_unit", "供电单位"),
        ("started_at", "开始时间"),
        ("finished_at", "结束时间"),
        ("workers", "作业人员"),
        ("ticket_id", "票号"),
        ("kind", "票种"),
        ("order_ids", "关联工单"),
        ("issuer", "签发人"),
        ("co_issuer", "会签人"),
        ("leader", "工作负责人"),
        ("permitter", "许可人"),
        ("crew", "工作班成员"),
        ("permitted_at", "许可开工时间"),
        ("ended_at", "终结时间"),
        ("status", "状态"),
        ("evaluation", "评价"),
        ("event_id", "事件编号"),
        ("meter_id", "电能表编号"),
        ("occurred_at", "发生时间"),
    ];
    let values: &[(&str, &str)] = &[
        ("new_connection", "新装"),
        ("meter_install", "装表接电"),
        ("ended", "已终结"),
        ("open", "执行中"),
        ("void", "作废"),
        ("pass", "合格"),
        ("cover_open", "开表盖"),
    ];
    for name in ["work_orders", "tickets", "meter_events"] {
        let path = dir.join(format!("{name}.csv"));
        let text = std::fs::read_to_string(&path).expect("read");
        let mut out = String::from("\u{feff}");
        // Rows in any order, not only by id.
        let mut lines: Vec<&str> = text.lines().collect();
        if seed % 2 == 1 && lines.len() > 2 {
            lines[1..].reverse();
        }
        for (n, line) in lines.into_iter().enumerate() {
            let cells: Vec<String> = line
                .split(',')
                .enumerate()
                .map(|(c, cell)| {
                    let mut cell = cell.to_owned();
                    if n == 0 && name == "meter_events" && cell == "kind" {
                        cell = "事件类型".to_owned();
                    } else if n == 0 {
                        if let Some((_, zh)) = headers.iter().find(|(en, _)| *en == cell) {
                            cell = (*zh).to_owned();
                        }
                    } else if let Some((_, zh)) = values.iter().find(|(en, _)| *en == cell).filter(|_| n % 2 == 0) {
                        cell = (*zh).to_owned();
                    } else if n % 3 == 0 && cell.len() == 16 && cell.as_bytes()[4] == b'-' {
                        // 2025-03-07 09:05 -> 2025/3/7 9:05
                        let (y, m, d, h, min) = (&cell[0..4], &cell[5..7], &cell[8..10], &cell[11..13], &cell[14..16]);
                        let strip = |s: &str| s.trim_start_matches('0').to_owned();
                        let (m, d, h) = (strip(m), strip(d), strip(h));
                        cell = format!("{y}/{m}/{d} {}:{min}", if h.is_empty() { "0" } else { &h });
                    }
                    if (n + c + seed as usize).is_multiple_of(4) { format!("\"{cell}\"") } else { cell }
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
            if n % 50 == 7 {
                out.push_str("\r\n");
            }
        }
        std::fs::write(&path, out).expect("write");
    }
    // A list of workers with a comma inside its quotes, and a crew separated by 、-free
    // Chinese semicolons: both read as lists.
    let orders = dir.join("work_orders.csv");
    let mut text = std::fs::read_to_string(&orders).expect("orders");
    text.push_str("W-EXTRA,meter_install,CU-EXTRA,供电中心1,2025-05-05 09:00,2025-05-05 10:00,\"P0000001, P0000004；P0000001\"\r\n");
    std::fs::write(&orders, text).expect("write");
}
