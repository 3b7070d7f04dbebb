use super::*;

#[test]
fn embedded_default_loads() {
    let c = load(None).unwrap();
    assert_eq!(c.source, Source::Embedded);
    assert_eq!(c.scrape_configs[0].job_name, "strata");
}
