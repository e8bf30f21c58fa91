#![allow(clippy::unwrap_used)]
//! The registry's reviewers' pages in headless chromium against the real
//! `ecard-registry` (docs/REGISTRY.md): a unit files through the form, its county
//! bureau rejects with a reason, the unit edits and resubmits, county and city
//! approve (the city several at once), the issuance orders reach the unit's station
//! through the sync channel; an application that waited past three working days
//! is marked overdue; another county's reviewer sees none of it and is refused its
//! page; the province opens 系统管理 and 统计. Every page is screenshotted into
//! target/ui-screenshots/registry-*.png and checked as the station's pages are
//! (browser.rs): our basic accessibility checks, no "null"/"undefined" shown, and
//! axe-core, which must find no violation (scripts/install-axe-core.sh installs it).
//! Run under the hardware lock (`flock /tmp/ecard-hw.lock`), as every browser test.

use ecard_test_support::registry::{RegistryOptions, RegistryProcess};
use fantoccini::{Client, ClientBuilder, Locator};
use hardware_tests::{PcscHarness, SimSpec};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use ui_tests::{
    chromium_binary, profile_dir, target_dir, A11yCheck, Chromedriver, Ecardd, Result, Ui,
};

const PASSWORD: &str = "correct horse 7";
const WAIT: Duration = Duration::from_secs(20);
const CARD_WAIT: Duration = Duration::from_secs(60);

fn day(d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
    a11y: A11yCheck,
    /// Accessibility problems found so far, by page: the walk goes on past a page
    /// with problems, so that one run reports every page's (asserted at the end).
    problems: std::sync::Mutex<Vec<String>>,
    _driver: Chromedriver,
}

impl Browser {
    async fn start(base: String) -> Result<Self> {
        let chromium = chromium_binary()?;
        let a11y = A11yCheck::load()?;
        let driver = Chromedriver::start()?;
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1366,900", "--lang=zh-CN", "--no-first-run", "--disable-extensions"],
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await?;
        let shots = target_dir()?.join("ui-screenshots");
        std::fs::create_dir_all(&shots)?;
        Ok(Self {
            client,
            base,
            shots,
            a11y,
            problems: std::sync::Mutex::new(Vec::new()),
            _driver: driver,
        })
    }

    async fn find(&self, css: &str) -> Result<fantoccini::elements::Element> {
        Ok(self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("element `{css}` did not appear: {e}"))?)
    }

    async fn click(&self, css: &str) -> Result<()> {
        let el = self.find(css).await?;
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(&el)?],
            )
            .await?;
        el.click()
            .await
            .map_err(|e| format!("cannot click `{css}`: {e}"))?;
        Ok(())
    }

    async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let el = self.find(css).await?;
        el.clear()
            .await
            .map_err(|e| format!("cannot clear `{css}`: {e}"))?;
        el.send_keys(text)
            .await
            .map_err(|e| format!("cannot type into `{css}`: {e}"))?;
        Ok(())
    }

    async fn wait_text(&self, css: &str, needle: &str) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if t.contains(needle) {
                        return Ok(t);
                    }
                    last = t;
                }
            }
            if Instant::now() > deadline {
                let alert = self.text("#alert").await.unwrap_or_default();
                return Err(format!(
                    "`{css}` never contained {needle:?}; it read {last:?}; alert: {alert:?}"
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    async fn goto(&self, route: &str) -> Result<()> {
        self.client
            .goto(&format!("{}/web/#/{route}", self.base))
            .await?;
        Ok(())
    }

    /// Screenshot, and the accessibility check (ours, which includes no
    /// "null"/"undefined" shown, and axe-core) of the page as it is now.
    async fn page_done(&self, name: &str) -> Result<()> {
        let png = self.client.screenshot().await?;
        std::fs::write(self.shots.join(format!("registry-{name}.png")), png)?;
        let found = self.a11y.problems(&self.client).await?;
        if let Ok(mut all) = self.problems.lock() {
            all.extend(found.into_iter().map(|p| format!("{name}: {p}")));
        }
        Ok(())
    }

    /// The page at 320 CSS px wide (1280 px at 400 % zoom), as the station's pages
    /// are checked (browser.rs): no sideways scroll (WCAG 1.4.10), and the
    /// accessibility check there too.
    async fn reflows_at_320(&self, name: &str) -> Result<()> {
        self.client.set_window_size(320, 800).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let inner = self
            .client
            .execute("return window.innerWidth;", vec![])
            .await?;
        assert!(
            inner.as_i64().unwrap_or(9999) <= 330,
            "the window did not narrow to 320 px: innerWidth {inner}"
        );
        let (over, what) = ui_tests::sideways_overflow(&self.client).await?;
        let png = self.client.screenshot().await?;
        std::fs::write(self.shots.join(format!("registry-{name}-320px.png")), png)?;
        let mut found = self.a11y.problems(&self.client).await?;
        if over > 0 {
            found.push(format!(
                "at 320 px the page scrolls sideways by {over} px ({what})"
            ));
        }
        if let Ok(mut all) = self.problems.lock() {
            all.extend(found.into_iter().map(|p| format!("{name} at 320 px: {p}")));
        }
        self.client.set_window_size(1366, 900).await?;
        Ok(())
    }

    /// Every page's accessibility problems, at the end of the walk: none allowed.
    fn assert_no_problems(&self) {
        let problems = self.problems.lock().map(|p| p.clone()).unwrap_or_default();
        assert!(
            problems.is_empty(),
            "accessibility problems on the registry's pages (our checks and axe-core):\n{}",
            problems.join("\n")
        );
    }

    async fn login(&self, username: &str) -> Result<()> {
        // End the last account's session (as 退出登录 does), then load the page afresh.
        self.client
            .execute_async(
                "const done = arguments[0]; fetch('/web/v1/session', {method: 'DELETE', headers: {'X-Requested-With': 'ecard'}}).then(() => done(), () => done());",
                vec![],
            )
            .await?;
        self.goto("login").await?;
        self.client.refresh().await?;
        self.fill("#login-username", username).await?;
        self.fill("#login-password", PASSWORD).await?;
        self.click("#login-submit").await?;
        self.wait_text("#session-user", username).await?;
        Ok(())
    }

    async fn open_application(&self, id: &str) -> Result<()> {
        self.goto(&format!("app?id={id}")).await?;
        self.wait_text("h1", &format!("申请 {id}")).await?;
        Ok(())
    }

    async fn file(&self, name: &str) -> Result<String> {
        self.goto("new").await?;
        self.fill("#application-form input[name=name]", name)
            .await?;
        // One person per name, born 1985 (eligibility refuses a second certificate
        // to one person, and the validity rule a retired one).
        let id_number = match name {
            "钱七" => "110105198506050320",
            "孙八" => "110105198506030127",
            _ => "11010519850601002X",
        };
        self.fill("#application-form input[name=id_number]", id_number)
            .await?;
        // The photo the chip photo is made from: an application without one is refused.
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let photo = dir.path().join("photo.jpg");
        std::fs::write(
            &photo,
            ecard_domain::photo::synthetic::portrait_jpeg(480, 560, 12, 80, 11),
        )
        .map_err(|e| e.to_string())?;
        self.find("#application-form input[name=photo]")
            .await?
            .send_keys(&photo.display().to_string())
            .await
            .map_err(|e| format!("cannot choose the photo: {e}"))?;
        self.fill("#application-form input[name=posts]", "01")
            .await?;
        self.fill("#application-form input[name=category]", "教育")
            .await?;
        self.fill("#application-form input[name=area]", "岳池县")
            .await?;
        // 张三's unit adds a proof material (a PDF by its bytes).
        if name == "张三" {
            let pdf = dir.path().join("任职文件.pdf");
            std::fs::write(
                &pdf,
                b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
            )
            .map_err(|e| e.to_string())?;
            self.find("#application-form input[name=materials]")
                .await?
                .send_keys(&pdf.display().to_string())
                .await
                .map_err(|e| format!("cannot choose the material: {e}"))?;
        }
        self.click("#save").await?;
        let h1 = self.wait_text("h1", name).await?;
        // "申请 3：张三"
        let id = h1
            .trim_start_matches("申请 ")
            .split('：')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(id.parse::<i64>().is_ok(), "{h1}");
        Ok(id)
    }
}

fn registry_bin() -> PathBuf {
    profile_dir().unwrap().join("ecard-registry")
}

fn cli(reg: &RegistryProcess, args: &[&str]) -> String {
    let out = reg.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two county-level units in two counties, their bureaus, the city, the province,
/// each with a page password.
fn world(reg: &RegistryProcess) {
    cli(
        reg,
        &[
            "admin",
            "add-unit",
            "--name",
            "岳池县教育局",
            "--region",
            "川X04",
            "--department",
            "02",
        ],
    );
    cli(
        reg,
        &[
            "admin",
            "add-unit",
            "--name",
            "广安区交通局",
            "--region",
            "川X01",
            "--department",
            "02",
        ],
    );
    let pw = reg.dir.path().join("pw");
    std::fs::write(&pw, PASSWORD).unwrap();
    for (user, role, org, unit, region) in [
        ("yc-edu", "unit", "岳池县教育局", Some("岳池县教育局"), None),
        ("ga-jt", "unit", "广安区交通局", Some("广安区交通局"), None),
        ("yc-justice", "county", "岳池县司法局", None, Some("川X04")),
        ("ga-justice", "county", "广安区司法局", None, Some("川X01")),
        ("gac-justice", "city", "广安市司法局", None, Some("川X")),
        ("sc-justice", "province", "四川省司法厅", None, None),
        ("sc-admin", "admin", "四川省司法厅", None, None),
    ] {
        let mut args = vec![
            "admin",
            "add-account",
            "--username",
            user,
            "--role",
            role,
            "--org-name",
            org,
        ];
        if let Some(u) = unit {
            args.extend(["--unit", u]);
        }
        if let Some(r) = region {
            args.extend(["--region", r]);
        }
        cli(reg, &args);
        cli(
            reg,
            &[
                "admin",
                "set-password",
                "--username",
                user,
                "--password-file",
                pw.to_str().unwrap(),
            ],
        );
    }
}

/// The unit's station, made by `ecardd`'s own CLI as a bureau makes one
/// (docs/OPERATIONS.md §0): a province root, station keys with the demo master key
/// (so that `ecard-sim` blanks fit), one issuer, enrolled with the registry and
/// added there for 川X04.
struct StationFiles {
    dir: tempfile::TempDir,
    db: PathBuf,
    passphrase: PathBuf,
}

/// `ecardd args…` on `today`; panics with its output when it fails.
fn ecardd(today: chrono::NaiveDate, args: &[&str]) -> String {
    let out = std::process::Command::new(ui_tests::ecardd_binary().unwrap())
        .env(
            ecard_clock::TODAY_ENV,
            ecard_clock::Clock::starting_on(today).env_value(),
        )
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ecardd {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn station(reg: &RegistryProcess) -> StationFiles {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let s = |name: &str| p(name).display().to_string();
    std::fs::write(p("root.pass"), "root-passphrase-1\n").unwrap();
    std::fs::write(p("station.pass"), "station-passphrase-1\n").unwrap();
    // `Ui::login` types "demo-" + the username.
    std::fs::write(p("operator.pass"), "demo-zhizheng\n").unwrap();
    std::fs::write(p("master.hex"), card_profile::demo::DEMO_MASTER_KEY_HEX).unwrap();
    let db = s("station.db");
    let on = day(19);
    ecardd(
        on,
        &[
            "keys",
            "root",
            "init",
            "--out",
            &s("root.json"),
            "--name",
            "四川省司法厅根证书",
            "--passphrase-file",
            &s("root.pass"),
        ],
    );
    ecardd(
        on,
        &[
            "keys",
            "init",
            "--db",
            &db,
            "--bureau",
            "岳池县司法局",
            "--root",
            &s("root.json"),
            "--root-passphrase-file",
            &s("root.pass"),
            "--passphrase-file",
            &s("station.pass"),
            "--master-key-file",
            &s("master.hex"),
        ],
    );
    let key = std::process::Command::new(registry_bin())
        .args(["key", "--key-file"])
        .arg(reg.dir.path().join("registry-key.p8"))
        .output()
        .unwrap();
    let key: serde_json::Value = serde_json::from_slice(&key.stdout).unwrap();
    let enrolled: serde_json::Value = serde_json::from_str(&ecardd(
        on,
        &[
            "sync",
            "enroll",
            "--db",
            &db,
            "--passphrase-file",
            &s("station.pass"),
            "--registry",
            &reg.url,
            "--station-id",
            "yuechi",
            "--registry-key-id",
            key["key_id"].as_str().unwrap(),
            "--insecure-loopback-http",
            "--json",
        ],
    ))
    .unwrap();
    cli(
        reg,
        &[
            "station",
            "add",
            "--name",
            "yuechi",
            "--public-key",
            enrolled["public_key"].as_str().unwrap(),
            "--region",
            "川X04",
        ],
    );
    ecardd(
        on,
        &[
            "operator",
            "add",
            "--db",
            &db,
            "--username",
            "zhizheng",
            "--display-name",
            "制证员",
            "--role",
            "issuer",
            "--password-file",
            &s("operator.pass"),
        ],
    );
    StationFiles {
        db: p("station.db"),
        passphrase: p("station.pass"),
        dir,
    }
}

async fn walkthrough(b: &Browser, reg: &mut RegistryProcess) -> Result<()> {
    // Thursday 19th: the unit files one application (it will wait too long).
    b.client.goto(&format!("{}/web/", b.base)).await?;
    b.find("#login-username").await?;
    b.page_done("01-login").await?;
    b.reflows_at_320("01-login").await?;
    b.login("yc-edu").await?;
    b.goto("new").await?;
    b.find("#application-form").await?;
    b.page_done("02-unit-form").await?;
    b.reflows_at_320("02-unit-form").await?;
    let old = b.file("钱七").await?;
    // 广安区's unit files one in its own county.
    b.login("ga-jt").await?;
    let other = b.file("孙八").await?;

    // Wednesday 25th: three working days (Fri, Mon, Tue) have passed.
    reg.kill();
    reg.move_clock(ecard_clock::Clock::starting_on(day(25)));
    reg.restart();
    b.login("yc-edu").await?;
    let id = b.file("张三").await?;
    b.page_done("03-unit-filed").await?;

    // The county's queue: the old one first and marked overdue, the new one due in 3.
    b.login("yc-justice").await?;
    b.goto("queue").await?;
    b.find("#queue").await?;
    let first = b.find("#queue tbody tr:first-child").await?;
    assert_eq!(first.attr("data-id").await?.as_deref(), Some(old.as_str()));
    assert_eq!(first.attr("class").await?.as_deref(), Some("overdue"));
    assert!(
        first.text().await?.contains("已超期 1 个工作日"),
        "{}",
        first.text().await?
    );
    b.wait_text(&format!("#queue tr[data-id=\"{id}\"]"), "剩余 3 个工作日")
        .await?;
    assert!(
        !b.text("#queue").await?.contains("孙八"),
        "another county's application in the queue"
    );
    b.page_done("04-county-queue").await?;
    b.reflows_at_320("04-county-queue").await?;

    // The county rejects 张三: without a reason refused, with one it goes back.
    b.open_application(&id).await?;
    b.wait_text("#history", "提交申请").await?;
    b.wait_text("#materials", "任职文件.pdf").await?;
    // Every filed field under its name in words (no field key shown).
    let facts = b.text("#page").await?;
    assert!(!facts.contains("holds_national_certificate"), "{facts}");
    let href = b
        .find("#materials a")
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    assert!(
        href.contains(&format!("applications/{id}/materials/")),
        "{href}"
    );
    // The reviewer's browser fetches it as the link does: the bytes, as a PDF.
    let got = b
        .client
        .execute_async(
            "const done = arguments[1]; fetch(arguments[0]).then(async (r) => done([r.status, r.headers.get('content-type'), (await r.text()).slice(0, 8)]), (e) => done(String(e)));",
            vec![serde_json::Value::String(href)],
        )
        .await?;
    assert_eq!(got, serde_json::json!([200, "application/pdf", "%PDF-1.4"]));
    b.page_done("05-application").await?;
    b.reflows_at_320("05-application").await?;
    b.click("#reject").await?;
    b.wait_text("#alert", "须填写原因").await?;
    b.page_done("05-reject-without-reason").await?;
    b.fill("#reject-reason", "执法类别填写有误，应为教育行政执法")
        .await?;
    b.click("#reject").await?;
    b.wait_text("#notice", "已退回").await?;
    b.wait_text("#history", "执法类别填写有误").await?;
    // The old one is approved at county level.
    b.open_application(&old).await?;
    b.click("#approve").await?;
    b.wait_text("#notice", "已审核通过").await?;

    // Another county's reviewer: nothing in its queue, and 张三's page refused.
    b.login("ga-justice").await?;
    b.goto("queue").await?;
    b.find("#queue").await?;
    let q = b.text("#queue").await?;
    assert!(
        q.contains("孙八") && !q.contains("张三") && !q.contains("钱七"),
        "{q}"
    );
    b.goto(&format!("app?id={id}")).await?;
    b.wait_text("#alert", "未找到").await?;
    b.wait_text("h1", "无法显示此页面").await?;
    assert!(b.client.find(Locator::Css("#approve")).await.is_err());
    b.page_done("06-other-county-refused").await?;

    // The unit sees the reason, edits and resubmits.
    b.login("yc-edu").await?;
    b.goto("list").await?;
    b.wait_text(
        &format!("#applications tr[data-id=\"{id}\"]"),
        "执法类别填写有误",
    )
    .await?;
    assert!(!b.text("#applications").await?.contains("孙八"));
    b.page_done("07-unit-list").await?;
    b.open_application(&id).await?;
    b.click("#edit").await?;
    b.wait_text(".refusal", "执法类别填写有误").await?;
    b.fill("#application-form input[name=category]", "教育行政执法")
        .await?;
    b.page_done("08-unit-edit").await?;
    b.click("#save").await?;
    b.wait_text("#notice", "已保存修改").await?;
    b.click("#resubmit").await?;
    b.wait_text("#notice", "已重新提交").await?;

    // County approves from its queue (selected, 通过所选).
    b.login("yc-justice").await?;
    b.goto("queue").await?;
    b.click(&format!("#queue tr[data-id=\"{id}\"] input[type=checkbox]"))
        .await?;
    b.click("#approve-selected").await?;
    b.wait_text("#notice", "已通过 1 件").await?;

    // The city approves both at once.
    b.login("gac-justice").await?;
    b.goto("queue").await?;
    b.wait_text("#queue", "张三").await?;
    b.page_done("09-city-queue").await?;
    for row in [&id, &old] {
        b.click(&format!(
            "#queue tr[data-id=\"{row}\"] input[type=checkbox]"
        ))
        .await?;
    }
    b.click("#approve-selected").await?;
    b.wait_text("#notice", "已通过 2 件").await?;
    b.open_application(&id).await?;
    b.wait_text("dl.facts", "已通过").await?;
    b.wait_text("#history", "市级复审").await?;
    b.page_done("10-approved").await?;

    // The province department: 统计, and no 系统管理 (that is the administrator's).
    b.login("sc-justice").await?;
    b.goto("stats").await?;
    b.wait_text("#by-state", "已通过").await?;
    let chart = b.find("img.chart").await?;
    let loaded = b
        .client
        .execute(
            "return arguments[0].complete && arguments[0].naturalWidth > 0;",
            vec![serde_json::to_value(&chart)?],
        )
        .await?;
    assert_eq!(
        loaded,
        serde_json::Value::Bool(true),
        "the SVG chart did not load"
    );
    assert!(
        b.client
            .find(Locator::Css("#nav-list a[href='#/admin']"))
            .await
            .is_err(),
        "a reviewer is offered 系统管理"
    );
    b.page_done("12-stats").await?;
    b.reflows_at_320("12-stats").await?;
    // A reviewer who opens 系统管理 directly gets nothing of it (the server refuses).
    b.goto("admin").await?;
    b.wait_text("h1", "待审核").await?;
    assert!(b.client.find(Locator::Css("#stations")).await.is_err());

    // The registry's administrator: 系统管理 (stations disabled and enabled), and
    // no application to decide.
    b.login("sc-admin").await?;
    b.goto("admin").await?;
    b.wait_text("#stations", "yuechi").await?;
    b.wait_text("#units", "县级初审、市级复审").await?;
    b.wait_text("#accounts", "系统管理员").await?;
    b.page_done("11-admin").await?;
    b.reflows_at_320("11-admin").await?;
    b.click("#stations tr[data-station=yuechi] button").await?;
    b.wait_text("#notice", "已停用站点 yuechi").await?;
    b.click("#stations tr[data-station=yuechi] button").await?;
    b.wait_text("#notice", "已启用站点 yuechi").await?;
    b.goto(&format!("app?id={old}")).await?;
    b.wait_text("h1", "系统管理").await?;
    let _ = other;
    b.assert_no_problems();
    Ok(())
}

/// The station's side: the orders arrive with `ecardd sync`, an issuer writes
/// 张三's card in the station's own pages through pcscd + vpcd + a blank `ecard-sim`
/// card, and the card verifies 有效 there.
async fn at_the_station(ui: &Ui) -> Result<()> {
    const READER: &str = "Virtual PCD 00 00";
    let radio = format!(".reader[data-reader=\"{READER}\"] input[type=radio]");
    ui.client.goto(&ui.base).await?;
    ui.login("zhizheng").await?;
    ui.goto("issue").await?;
    let table = ui.wait_text("#approved-table", "张三", WAIT).await?;
    assert!(
        table.contains("钱七"),
        "both orders at the station: {table}"
    );
    ui.click(&radio).await?;
    let write = ui
        .client
        .execute(
            r#"const row = [...document.querySelectorAll('#approved-table tr[data-cert-row]')]
                 .find((r) => r.textContent.includes('张三'));
               return row ? row.getAttribute('data-cert-row') : null;"#,
            vec![],
        )
        .await?;
    let cert = write.as_str().ok_or("张三 has no row to write")?.to_owned();
    ui.click(&format!("#approved-table button[data-issue=\"{cert}\"]"))
        .await?;
    let serial = ui
        .wait_attr("#issue-result [data-serial]", "data-serial", CARD_WAIT)
        .await?;
    assert_eq!(serial.len(), 16, "card serial {serial:?}");
    ui.wait_text("#issue-result", "有效", WAIT).await?;
    ui.screenshot("registry-13-station-written").await?;
    // The written card, read again at the verify page: 有效, for 张三.
    ui.goto("verify").await?;
    ui.click(&radio).await?;
    ui.click("#verify-go").await?;
    ui.wait_attr("#verdict", "data-standing", CARD_WAIT).await?;
    let label = ui.find("#verdict-label").await?.text().await?;
    assert_eq!(label, "有效");
    let result = ui.find("#verify-result").await?.text().await?;
    assert!(
        result.contains("张三") && result.contains(&serial),
        "{result}"
    );
    // The chip photo (made from the photo the unit filed) is read and its hash
    // checks against the card's security object.
    ui.find("#photo-slot img.photo").await?;
    ui.find("#checks tr[data-check=\"file_hash\"][data-file=\"Photo\"][data-outcome=\"passed\"]")
        .await?;
    ui.screenshot("registry-14-station-verified").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_files_the_bureaus_review_and_the_station_writes_the_card() {
    let mut reg = RegistryProcess::start(
        &registry_bin(),
        ecard_clock::Clock::starting_on(day(19)),
        RegistryOptions {
            plain_http: true,
            admin_token: false,
            ..RegistryOptions::default()
        },
    );
    world(&reg);
    let station = station(&reg);
    let b = match Browser::start(reg.url.clone()).await {
        Ok(b) => b,
        Err(e) => panic!("cannot start the browser test: {e}"),
    };
    let outcome = walkthrough(&b, &mut reg).await;
    if outcome.is_err() {
        if let Ok(png) = b.client.screenshot().await {
            let _ = std::fs::write(b.shots.join("registry-failure.png"), png);
        }
    }
    let _ = b.client.clone().close().await;
    drop(b);
    if let Err(e) = outcome {
        panic!("{e}\n(screenshot: target/ui-screenshots/registry-failure.png)");
    }

    // The approved orders reach the station through the signed feed.
    let on = day(25);
    let db = station.db.display().to_string();
    let pass = station.passphrase.display().to_string();
    ecardd(on, &["sync", "--db", &db, "--passphrase-file", &pass]);
    // A blank card from the vendor in vpcd's first reader.
    let mut pcsc = PcscHarness::start().unwrap();
    let hex = card_profile::demo::DEMO_MASTER_KEY_HEX.trim();
    let master: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let _card = pcsc
        .start_card(
            0,
            SimSpec::new(station.dir.path().join("card.json"))
                .serial(0xEC00_0000_0000_0025u64.to_be_bytes())
                .master_key(master),
        )
        .unwrap();
    let today = ecard_clock::Clock::starting_on(on).env_value();
    let ecardd = Ecardd::serve(
        &station.db,
        &station.passphrase,
        &[(ecard_clock::TODAY_ENV, today.as_str())],
    )
    .unwrap();
    let log = ecardd.log.clone();
    let ui = match Ui::start_with(ecardd).await {
        Ok(ui) => ui,
        Err(e) => panic!("cannot start the station's browser: {e}"),
    };
    let outcome = at_the_station(&ui).await;
    if outcome.is_err() {
        let _ = ui.screenshot("registry-station-failure").await;
    }
    let _ = ui.close().await;
    if let Err(e) = outcome {
        panic!(
            "{e}\n(screenshot: target/ui-screenshots/registry-station-failure.png; ecardd log: {})",
            log.display()
        );
    }
}
