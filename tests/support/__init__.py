"""What the tests share: fake dumps and interfaces, a fake journal, detection-test
builders, realistic Kibana rules, the Kibana stand-in, the test cluster's helpers and the
lab story's checks. No tests live here."""
