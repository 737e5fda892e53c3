use crate::ml_connector;

#[test]
fn config_check_reports_every_problem_with_its_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        r#"
[instances.shop-eu]
erp = "sage301"
channel = "woocommerce"
[instances.shop-eu.erp_connection]
base_url = "https://erp.example.com/Sage300WebApi/v1.0/-/"
company = "SAMLTD"
username = "WEBAPI"
password = "x"
[instances.shop-eu.channel_connection]
base_url = "not a url"
consumer_key = "ck"
consumer_secret = "cs"
webhook_secret = "wh"
[instances.shop-eu.schedules]
stock_poll = 5
"#,
    )
    .unwrap();
    let out = ml_connector()
        .args(["config", "check"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a bad file must fail the check:\n{stdout}"
    );
    for path in [
        "instances.shop-eu.erp:",
        "instances.shop-eu.channel_connection.base_url:",
        "instances.shop-eu.schedules.stock_poll:",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(path)),
            "no problem at {path} in:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("sage301"),
        "names the wrong value:\n{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 problems"),
        "{:?}",
        out.stderr
    );
}

#[test]
fn config_check_accepts_the_annotated_example() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let mut cmd = ml_connector();
    for var in [
        "BC_ACCESS_TOKEN",
        "BC_CLIENT_SECRET",
        "MAGENTO_ACCESS_TOKEN",
        "MAGENTO_ACCESS_TOKEN_SECRET",
        "MAGENTO_CONSUMER_KEY",
        "MAGENTO_CONSUMER_SECRET",
        "SAGE100_AGENT_KEY",
        "SAGE100_PASSWORD",
        "SAGE300_PASSWORD",
        "SHIPSTATION_API_KEY",
        "WC_EU_CONSUMER_KEY",
        "WC_EU_CONSUMER_SECRET",
        "WC_EU_WEBHOOK_SECRET",
        "X3_APP_SECRET",
        "X3_UK_PASSWORD",
    ] {
        cmd.env(var, "secret-value");
    }
    cmd.env("MLC_DATABASE_URL", "postgres://mlc:pw@localhost/mlc");
    let out = cmd.args(["config", "check", example]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": OK"));
}

#[test]
fn config_check_names_a_missing_secret_variable_without_values() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let out = ml_connector()
        .env("SAGE300_PASSWORD", "hunter2-secret")
        .args(["config", "check", example])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains("WC_EU_CONSUMER_KEY"), "{stdout}");
    assert!(
        !stdout.contains("hunter2-secret"),
        "a secret value was printed:\n{stdout}"
    );
}

#[test]
fn config_check_of_a_missing_file_fails() {
    let out = ml_connector()
        .args(["config", "check", "/nonexistent/ml.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
}
