//! Import + validation of a 10,000-row roster (target: under 2 s).
//! Run: `cargo bench -p ecard-domain --bench roster_import`

use chrono::{Duration, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion};
use ecard_domain::citizen_id::{first17, with_check_digit, CitizenId};
use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
use ecard_domain::forms::roster_xlsx;
use ecard_domain::roster::{import, ApplicationKind, ImportOptions, Photos, RosterRow};

const ROWS: u32 = 10_000;

fn rows(today: NaiveDate) -> Vec<RosterRow> {
    let base = NaiveDate::from_ymd_opt(1965, 1, 1).expect("date");
    (0..ROWS)
        .map(|n| {
            let birth = base + Duration::days(i64::from(n % 12_000));
            let s = with_check_digit(&first17("511600", birth, (n % 1000) as u16)).expect("id");
            let citizen_id = CitizenId::parse(&s, today).expect("valid id");
            RosterRow {
                kind: if n % 10 == 9 {
                    ApplicationKind::Replacement
                } else {
                    ApplicationKind::New
                },
                excel_row: 0,
                county: "广安市".into(),
                name: format!("人员{n}"),
                unit: "广安市市场监督管理局".into(),
                certificate_number: (n % 10 == 9)
                    .then(|| format!("川X23{:04}", n % 9000 + 1).parse().expect("number")),
                valid_until: None,
                gender: citizen_id.gender(),
                birth_date: citizen_id.birth_date(),
                citizen_id,
                ethnicity: Ethnicity::parse("汉族").expect("e"),
                political_status: PoliticalStatus::ALL[(n % 13) as usize],
                valid_from: None,
                education: "大学本科".into(),
                major: "法学".into(),
                rank_code: "020201".into(),
                law_major: true,
                legal_qualification: false,
                posts: vec![PostCode::ByAuthority, PostCode::OnApplication],
                exam_category: "综合法律知识考试".into(),
                law_exam_on: None,
                law_exam_score: None,
                staffing: None,
                org_nature: None,
                position: None,
                photo: None,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let today = NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    let xlsx = roster_xlsx(&rows(today)).expect("write roster");
    let opts = ImportOptions::new(today);
    // Fail loudly if the benchmark input stopped being valid.
    let n = import(&xlsx, Photos::None, &opts).map(|r| r.len());
    assert_eq!(n.ok(), Some(ROWS as usize));
    let mut g = c.benchmark_group("roster");
    g.sample_size(10);
    g.bench_function("import_validate_10000_rows", |b| {
        b.iter(|| import(std::hint::black_box(&xlsx), Photos::None, &opts))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
