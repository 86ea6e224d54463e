//! Lists that scale: a list pages by keyset (each row once, a deep page as cheap as the first),
//! says how many the filter selects, filters by unit and period, and sorts.

mod support;

use support::TestApp;
use support::tickets::{create_unapproved, crew, draft};

/// The ticket numbers a list page shows, in order, and its link to the next page.
fn numbers_and_next(body: &str) -> (Vec<String>, Option<String>) {
    let numbers = body
        .split("<a href=\"/tickets/")
        .skip(1)
        .filter_map(|s| s.split_once("\">").map(|(_, rest)| rest.split('<').next().unwrap_or_default().to_owned()))
        .filter(|n| n.starts_with("DY-"))
        .collect();
    let next = body
        .split("data-next")
        .next()
        .filter(|_| body.contains("data-next"))
        .and_then(|before| before.rsplit("href=\"").next())
        .map(|h| h.split('"').next().unwrap_or_default().replace("&amp;", "&").replace("&#38;", "&"));
    (numbers, next)
}

/// Each row's (local start, id) in the order the page shows them.
fn starts_and_ids(body: &str) -> Vec<(String, i64)> {
    body.split("<tr>")
        .skip(1)
        .filter_map(|row| {
            let id = row.split("<a href=\"/tickets/").nth(1)?.split('"').next()?.parse().ok()?;
            let start = row.split_once(" – ")?.0.rsplit('>').next()?.to_owned();
            Some((start, id))
        })
        .collect()
}

/// Every row of a list from `first` on, following its next links: (start, id) in page order.
async fn every_row(app: &TestApp, cookie: &str, first: &str) -> Vec<(String, i64)> {
    let (mut rows, mut pages, mut path) = (Vec::new(), 0, first.to_owned());
    loop {
        pages += 1;
        let page = app.get_with(&path, &[("cookie", cookie)]).await;
        rows.extend(starts_and_ids(&page.body));
        let Some(next) = numbers_and_next(&page.body).1 else { break };
        assert!(pages < 10, "ends: {next}");
        path = next;
    }
    rows
}

backend_tests! {
    async fn the_ticket_list_pages_through_every_ticket_says_how_many_and_filters(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        // 230 drafts over three months, the last 30 in the county below the city.
        for i in 0..230 {
            let month = 9 + i % 3;
            let day = 1 + (i / 3) % 28;
            let from = format!("2026-{month:02}-{day:02} 09:00");
            let to = format!("2026-{month:02}-{day:02} 17:00");
            let mut body = draft(&f, "L1", &["C1"], &from, &to);
            if i >= 200 {
                body["unit_id"] = serde_json::json!(f.unit_a1);
            }
            body["unplanned_reason"] = serde_json::json!("抢修");
            create_unapproved(&app, &c, body).await;
        }
        let get = |path: String| {
            let cookie = c.cookie_leader.clone();
            let app = &app;
            async move { app.get_with(&path, &[("cookie", &cookie)]).await }
        };
        let first = get("/tickets".to_owned()).await;
        assert!(first.body.contains("data-total=\"230\"") && first.body.contains("共 230 条"), "the count");
        let mut seen = Vec::new();
        let mut page = first;
        let mut pages = 0;
        loop {
            pages += 1;
            let (numbers, next) = numbers_and_next(&page.body);
            seen.extend(numbers);
            let Some(next) = next else { break };
            let next = next.clone();
            page = get(next.clone()).await;
            assert!(pages < 10, "ends: {next}");
        }
        assert_eq!(pages, 3, "100 + 100 + 30");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (230, 230), "each ticket once");

        // The county's own, a period, and the oldest first.
        let county = get(format!("/tickets?unit={}", f.unit_a1)).await;
        assert!(county.body.contains("data-total=\"30\""), "the unit and those below it");
        let october = get("/tickets?from=2026-10&to=2026-10".to_owned()).await;
        assert!(october.body.contains("data-total=\"77\""), "a month: {}", october.body.contains("data-total"));
        let oldest = get("/tickets?order=oldest".to_owned()).await;
        let (numbers, _) = numbers_and_next(&oldest.body);
        let newest = get("/tickets".to_owned()).await;
        let (latest, _) = numbers_and_next(&newest.body);
        assert_ne!(numbers.first(), latest.first(), "the order turns");
        // Across pages, newest first and oldest first, tickets starting at the same minute
        // (230 over 84 days) in the order of their ids.
        let newest_rows = every_row(&app, &c.cookie_leader, "/tickets").await;
        let oldest_rows = every_row(&app, &c.cookie_leader, "/tickets?order=oldest").await;
        assert_eq!((newest_rows.len(), oldest_rows.len()), (230, 230));
        let mut expected = newest_rows.clone();
        expected.sort();
        assert_eq!(oldest_rows, expected, "oldest first: by start, then id");
        expected.reverse();
        assert_eq!(newest_rows, expected, "newest first: by start, then id, both turned");
        assert!(oldest.body.contains("2026-09-01 09:00"), "oldest first shows September's first day");
        // A unit out of reach is refused, not silently emptied.
        let far = get(format!("/tickets?unit={}", f.unit_b)).await;
        assert_eq!(far.status, 403);

        // The API pages by the same keyset: every ticket once, newest first as the page shows
        // them, by following the Link headers; a filter kept across pages; one page by default.
        let auth = [("cookie", c.cookie_leader.as_str())];
        let pages = app.api_pages(&auth, "/api/v1/tickets?limit=100").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![100, 100, 30]);
        let ids: Vec<i64> = pages.concat();
        assert_eq!(ids, newest_rows.iter().map(|(_, id)| *id).collect::<Vec<_>>(), "the page's order");
        let searched = app.api_pages(&auth, "/api/v1/tickets?state=draft&q=%E4%B9%A6&limit=50").await;
        let searched_ids: Vec<i64> = searched.concat();
        let one = app.json(axum::http::Method::GET, "/api/v1/tickets?state=draft&q=%E4%B9%A6", None, &auth).await;
        let expected: Vec<i64> = one.json().as_array().expect("a list").iter().filter_map(|t| t["id"].as_i64()).collect();
        assert!(one.headers.get("link").is_none(), "all of them on one page");
        assert_eq!(searched_ids, expected, "the filter kept on every page");
        assert_eq!((searched.len(), searched_ids.len()), (5, 230), "the drafts, 50 a page");
        for bad in ["limit=0", "limit=5001", "after=2026", "after=x%1F1"] {
            let r = app.json(axum::http::Method::GET, &format!("/api/v1/tickets?{bad}"), None, &auth).await;
            assert_eq!(r.status, 422, "{bad}: {}", r.body);
        }
    }

    // A list's rows come from the database packed into one JSON value: text JSON must escape
    // (quotes, backslashes, line breaks, characters outside the basic plane, markup) comes back
    // exactly as written, numbers and absent values keep their kind, and a list of nothing is
    // empty (PostgreSQL aggregates no rows to NULL).
    async fn a_list_hands_back_every_character_as_written_and_an_empty_one_empty(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let location = "书院街\"18\"号 \\表箱\\ 𠀋𝄞 <b>&amp;</b> 末";
        let mut body = draft(&f, "L1", &["C1"], "2026-12-01 09:00", "2026-12-01 17:00");
        body["location"] = serde_json::json!(location);
        let fields = body.as_object_mut().expect("a draft");
        fields.remove("customer_name");
        fields.remove("customer_id");
        body["unplanned_reason"] = serde_json::json!("抢修");
        let id = create_unapproved(&app, &c, body).await;
        let list = app
            .json(axum::http::Method::GET, "/api/v1/tickets", None, &[("cookie", &c.cookie_leader)])
            .await
            .json();
        let rows = list.as_array().expect("a list");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["id"], serde_json::json!(id), "an id stays a number");
        assert_eq!(rows[0]["location"], serde_json::json!(location), "every character as written");
        assert!(rows[0]["customer_name"].is_null(), "an absent value stays absent: {}", rows[0]);
        let page = app.get_with("/tickets", &[("cookie", &c.cookie_leader)]).await;
        assert!(page.body.contains("书院街&#34;18&#34;号 \\表箱\\ 𠀋𝄞 &#60;b&#62;&#38;amp;&#60;/b&#62; 末"), "escaped on the page");
        let none = app
            .json(axum::http::Method::GET, "/api/v1/tickets?q=不存在的地址", None, &[("cookie", &c.cookie_leader)])
            .await;
        assert_eq!(none.status, 200);
        assert_eq!(none.json(), serde_json::json!([]));
    }

    async fn the_people_list_pages_by_unit_and_code_and_says_how_many(app: TestApp) {
        let f = app.fixture().await;
        for i in 0..150 {
            let unit = if i % 2 == 0 { f.unit_a } else { f.unit_a1 };
            app.person(unit, &format!("P{i:03}"), &[]).await;
        }
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let mut path = "/people".to_owned();
        let mut seen = Vec::new();
        for page in 0.. {
            let r = app.get_with(&path, &[("cookie", &cookie)]).await;
            assert_eq!(r.status, 200);
            if page == 0 {
                assert!(r.body.contains("data-total=\"150\""), "the count");
            }
            seen.extend(r.body.split("<a href=\"/people/").skip(1).filter_map(|s| s.split_once("\">").map(|(_, rest)| rest.split('<').next().unwrap_or_default().to_owned())));
            let Some(next) = r.body.split("\" data-next").next().filter(|_| r.body.contains("data-next")).and_then(|b| b.rsplit("href=\"").next()) else { break };
            path = next.replace("&amp;", "&").replace("&#38;", "&");
            assert!(page < 5, "ends");
        }
        let people: Vec<&String> = seen.iter().filter(|c| c.starts_with('P')).collect();
        let mut unique = people.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((people.len(), unique.len()), (150, 150), "each person once over two pages");
        // A search counts what it finds.
        let found = app.get_with("/people?q=P01", &[("cookie", &cookie)]).await;
        assert!(found.body.contains("data-total=\"10\""), "P010–P019");

        // The API pages by the same keyset: every person once, by following the Link headers,
        // a search kept on every page; a search ignores the case of letters on both backends
        // (PostgreSQL's LIKE alone would not).
        let auth = [("cookie", cookie.as_str())];
        let whole = app.json(axum::http::Method::GET, "/api/v1/people", None, &auth).await;
        let all: Vec<i64> = whole.json().as_array().expect("a list").iter().filter_map(|p| p["id"].as_i64()).collect();
        assert!(whole.headers.get("link").is_none() && all.len() >= 150, "one page by default");
        let pages = app.api_pages(&auth, "/api/v1/people?limit=40").await;
        assert!(pages.len() >= 4 && pages[..pages.len() - 1].iter().all(|p| p.len() == 40), "40 a page");
        assert_eq!(pages.concat(), all, "every person once, in the list's order");
        let searched = app.api_pages(&auth, "/api/v1/people?q=P01&limit=3").await;
        assert_eq!(searched.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 3, 1], "P010–P019");
        let lower = app.api_pages(&auth, "/api/v1/people?q=p01&limit=4").await;
        assert_eq!(lower.concat(), searched.concat(), "p01 finds P010–P019 too");
        for bad in ["limit=0", "limit=5001", "after=P001", "after=%5B1%2C2%5D"] {
            let r = app.json(axum::http::Method::GET, &format!("/api/v1/people?{bad}"), None, &auth).await;
            assert_eq!(r.status, 422, "{bad}: {}", r.body);
        }
    }

    async fn the_customer_register_and_the_hazards_page_after_their_rules_judged_them(app: TestApp) {
        use gridsafe_domain::access::perm;
        let f = app.fixture().await;
        let mut csv = String::from("户号,户名,用电地址,供电单位,电压等级,重要等级,认定文件,行业,自备应急电源,建档日期\n");
        for i in 0..130 {
            csv.push_str(&format!("07019{i:05},客户{i},地址{i},孝南供电中心,0.4kV,,,商业,,2026-01-10\n"));
        }
        let cap = support::operator().authorize::<perm::CustomersManage>().expect("operator");
        gridsafe_app::customers::import_customers(app.app(), &cap, &support::meta(), &[("客户.csv".to_owned(), csv.into_bytes())])
            .await
            .expect("import")
            .expect("imported");
        let cookie = app.session_for(f.user("inspector")).await;
        let mut path = "/customers".to_owned();
        let mut seen = Vec::new();
        for page in 0.. {
            let r = app.get_with(&path, &[("cookie", &cookie)]).await;
            assert_eq!(r.status, 200);
            if page == 0 {
                assert!(r.body.contains("data-total=\"130\""), "the count");
            }
            seen.extend(r.body.split("\">07019").skip(1).map(|s| s[..5].to_owned()));
            let Some(next) = r.body.split("\" data-next").next().filter(|_| r.body.contains("data-next")).and_then(|b| b.rsplit("href=\"").next()) else { break };
            path = next.replace("&amp;", "&").replace("&#38;", "&");
            assert!(page < 5, "ends");
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (130, 130), "each customer once over two pages");

        // 120 hazards: the first page holds 100 of them, open ones first, the second the rest.
        let inspector = cookie;
        for i in 0..120 {
            let r = app.post_form("/hazards", &format!("unit_id={}&title=H{i:03}&grade=general&responsibility=grid", f.unit_a1), &[("cookie", &inspector)]).await;
            assert_eq!(r.status, 303, "{}", r.body);
        }
        let first = app.get_with("/hazards", &[("cookie", &inspector)]).await.body;
        assert!(first.contains("data-total=\"120\""), "the count");
        let next = first.split("\" data-next").next().and_then(|b| b.rsplit("href=\"").next()).expect("a next page");
        let second = app.get_with(&next.replace("&amp;", "&").replace("&#38;", "&"), &[("cookie", &inspector)]).await.body;
        let titles = |body: &str| body.split("data-label=\"隐患名称\">H").skip(1).map(|s| s[..3].to_owned()).collect::<Vec<_>>();
        let (a, b) = (titles(&first), titles(&second));
        assert_eq!((a.len(), b.len()), (100, 20), "100 + 20");
        assert!(a.iter().all(|t| !b.contains(t)), "each hazard once");
    }
}
