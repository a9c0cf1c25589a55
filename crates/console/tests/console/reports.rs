//! The Reports workspace through the console host: an admin's console reads the day's figures
//! from the clinic server with its session and saves the CSV in the downloads; the front desk's
//! console is refused, as the server says.

use crate::rig::rig;
use frontdesk_client::api::{ApiClient, ReportQuery};
use frontdesk_domain::Command;
use frontdesk_domain::report::Period;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_console_reads_the_days_report_and_saves_it_as_csv() {
    let rig = rig().await;
    // Ana is seen and her call ends.
    let ana = rig.arrive("Ana Pereira").await.parse().unwrap();
    let api = ApiClient::new(&rig.url).unwrap();
    let (_, admin) = rig.admin().await;
    let visit = api.visit(&admin, ana).await.unwrap();
    for (i, command) in [Command::Claim, Command::EndCall].into_iter().enumerate() {
        let version = visit.version + i as u64;
        let key = format!("report-{i}");
        api.command(&admin, ana, &command, Some(version), &key)
            .await
            .unwrap();
    }

    rig.console
        .sign_in(&rig.address, "admin@demo.clinic", "demo-admin", false)
        .await
        .unwrap();
    let today = ReportQuery {
        period: Period::Day,
        date: None,
        room: None,
    };
    let report = rig.console.report(today.clone()).await.unwrap();
    assert_eq!((report.visits, report.arrivals), (1, 1));
    assert_eq!(report.outcomes.completed, 1);
    assert_eq!(report.wait_for_staff.count, 1);

    let saved = rig.console.export_report(today.clone()).await.unwrap();
    assert_eq!(saved, "/downloads/frontdesk-report-day-today.csv");
    let downloads = rig.host.downloads.lock().unwrap().clone();
    let (_, csv) = &downloads[0];
    let csv = String::from_utf8(csv.clone()).unwrap();
    let server_csv = api.report_csv(&admin, &today).await.unwrap();
    assert_eq!(csv, server_csv, "saved as the server wrote it");
    assert!(
        csv.lines().nth(1).unwrap().starts_with("clinic,,,,1,1,"),
        "{csv}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_desks_console_is_refused_reports() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    let query = ReportQuery {
        period: Period::Week,
        date: None,
        room: None,
    };
    let refused = rig.console.report(query.clone()).await.unwrap_err();
    assert_eq!(refused.code, "forbidden", "{refused:?}");
    let refused = rig.console.export_report(query).await.unwrap_err();
    assert_eq!(refused.code, "forbidden");
    assert!(rig.host.downloads.lock().unwrap().is_empty());
}
