package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDefaultsMatchTheDesign(t *testing.T) {
	c, err := Parse(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Timezone != "Asia/Shanghai" || c.Location().String() != "Asia/Shanghai" {
		t.Errorf("timezone = %q", c.Timezone)
	}
	if c.Database.Driver != "sqlite" || c.Database.DSN.Reveal() != "yanzhen.db" {
		t.Errorf("database = %+v", c.Database)
	}
	if c.WeCom.APIBase != "https://qyapi.weixin.qq.com" || c.WeCom.ReplayWindow.D() != 10*time.Minute {
		t.Errorf("wecom = %+v", c.WeCom)
	}
	s := c.Schedule
	if !s.Enabled || s.RemindAt.String() != "17:30" || s.ReportAt.String() != "18:00" ||
		s.DigestAt.String() != "23:00" || s.OverdueEvery.D() != 15*time.Minute || s.RollupAt.String() != "09:00" {
		t.Errorf("schedule = %+v", s)
	}
	if c.Rules.GroupDailyBudget != 30 {
		t.Errorf("rules.group_daily_budget = %d, want 30", c.Rules.GroupDailyBudget)
	}
	if got := c.Rules.TimeLimit("咨询"); got != (Span{1, Workdays}) {
		t.Errorf("咨询 limit = %v", got)
	}
	if got := c.Rules.TimeLimit("没有这个类别"); got != c.Rules.DefaultLimit {
		t.Errorf("unknown category limit = %v", got)
	}
	if c.Rules.Scores.MinSample != 5 {
		t.Errorf("rules.scores.min_sample = %d, want 5 (DESIGN §4b)", c.Rules.Scores.MinSample)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	text := `
timezone: Asia/Shanghai
database: {driver: mysql, dsn: "u:p@tcp(db:3306)/yz"}
http: {listen: ":9000", admin_token: "from-file"}
wecom:
  corp_id: wwcorp
  agent_id: 1000002
  secret: file-secret
  replay_window: 0
  app_callback: {token: tok, aes_key: jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C}
schedule: {enabled: false, remind_at: "17:00", report_at: 18:30, overdue_every: 5m}
rules:
  time_limits: {咨询: 2wd, 求助: 48h}
  escalation:
    - {level: alert, at: 0, notify: head}
`
	environ := []string{
		"YANZHEN_WECOM_SECRET=env-secret",
		"YANZHEN_DATABASE_DSN=other-dsn",
		"YANZHEN_WECOM_APP_CALLBACK_TOKEN=env-token",
		"YANZHEN_SCHEDULE_REPORT_AT=18:15",
		"YANZHEN_IMPORT_MAX_FILE_SIZE=50MB",
		"UNRELATED=1",
	}
	c, err := Parse([]byte(text), environ)
	if err != nil {
		t.Fatal(err)
	}
	if c.WeCom.Secret.Reveal() != "env-secret" || c.Database.DSN.Reveal() != "other-dsn" {
		t.Errorf("env did not override: secret=%q dsn=%q", c.WeCom.Secret.Reveal(), c.Database.DSN.Reveal())
	}
	if c.WeCom.AppCallback.Token.Reveal() != "env-token" {
		t.Errorf("nested env override missing: %q", c.WeCom.AppCallback.Token.Reveal())
	}
	if c.Schedule.ReportAt.String() != "18:15" || c.Schedule.RemindAt.String() != "17:00" || c.Schedule.Enabled {
		t.Errorf("schedule = %+v", c.Schedule)
	}
	if c.WeCom.ReplayWindow != 0 || c.WeCom.AgentID != 1000002 {
		t.Errorf("wecom = %+v", c.WeCom)
	}
	if c.Rules.TimeLimit("求助") != (Span{48, Hours}) || c.Rules.TimeLimit("咨询") != (Span{2, Workdays}) {
		t.Errorf("limits = %v", c.Rules.TimeLimits)
	}
	if len(c.Rules.Escalation) != 1 || c.Rules.Escalation[0].At != (Span{0, Workdays}) {
		t.Errorf("ladder = %+v", c.Rules.Escalation)
	}
	if c.Import.MaxFileSize != 50*MB {
		t.Errorf("import.max_file_size = %v", c.Import.MaxFileSize)
	}
	// An env var for a key absent from the file still applies.
	c2, err := Parse([]byte("timezone: Asia/Shanghai\n"), []string{"YANZHEN_HTTP_ADMIN_TOKEN=abc"})
	if err != nil || c2.HTTP.AdminToken.Reveal() != "abc" {
		t.Errorf("absent key override: %v %q", err, c2.HTTP.AdminToken.Reveal())
	}
}

func TestValidationNamesKeyAndRule(t *testing.T) {
	cases := []struct{ text, env, want string }{
		{"wecom: {app_callback: {token: t, aes_key: short}, corp_id: c}", "", "config: wecom.app_callback.aes_key must be 43 characters"},
		{"database: {driver: postgres}", "", "config: database.driver must be sqlite or mysql"},
		{"timezone: Mars/Olympus", "", "config: timezone must be an IANA zone such as Asia/Shanghai"},
		{"schedule: {remind_at: '25:00'}", "", "config: is not valid YAML"},
		{"schedule: {weekly_day: 9}", "", "config: schedule.weekly_day must be 1 (Monday) to 7 (Sunday)"},
		{"wecom: {robot: {token: t}}", "", "config: wecom.robot needs both token and aes_key, or neither"},
		{"wecom: {app_callback: {token: t, aes_key: jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C}}", "", "config: wecom.corp_id must be set when wecom.app_callback is"},
		{"wecom: {api_base: 'ftp://x'}", "", "config: wecom.api_base must be an http(s) URL"},
		{"rules: {scores: {response: 0.5}}", "", "config: rules.scores weights must be non-negative and sum to 1"},
		{"rules: {escalation: [{level: shout, at: 0, notify: head}]}", "", "config: rules.escalation[0].level must be warn, alert, urge or blacklist"},
		{"no_such_key: 1", "", "config: is not valid YAML: line 1: field no_such_key not found"},
		{"", "YANZHEN_WECOM_AGENT_ID=abc", "config: YANZHEN_WECOM_AGENT_ID has a value of the wrong form"},
		{"rules: {ticket_number: '('}", "", "config: rules.ticket_number must be a valid regular expression"},
		{"import: {max_file_size: 100KB}", "", "config: import.max_file_size must be between 1MB and 2GB"},
		{"import: {max_file_size: 3GB}", "", "config: import.max_file_size must be between 1MB and 2GB"},
		{"import: {max_file_size: lots}", "", "config: is not valid YAML"},
		{"rules: {scores: {min_sample: 0}}", "", "config: rules.scores.min_sample must be at least 1"},
		{"rules: {group_daily_budget: -1}", "", "config: rules.group_daily_budget must not be negative"},
		{"", "YANZHEN_SCHEDULE_ROLLUP_AT=9", "config: YANZHEN_SCHEDULE_ROLLUP_AT has a value of the wrong form"},
	}
	for _, tc := range cases {
		var environ []string
		if tc.env != "" {
			environ = []string{tc.env}
		}
		_, err := Parse([]byte(tc.text), environ)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want prefix %q", tc.text, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const value = "s3cr3t-value-XYZ"
	c := Default()
	c.WeCom.Secret = value
	c.WeCom.Robot.AESKey = value
	c.HTTP.AdminToken = value
	outputs := []string{
		fmt.Sprint(c.WeCom.Secret), fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c.WeCom.Secret, c.WeCom.Secret, c.WeCom.Secret),
	}
	y, _ := yaml.Marshal(c)
	j, _ := json.Marshal(c)
	outputs = append(outputs, string(y), string(j))
	for _, o := range outputs {
		if strings.Contains(o, value) {
			t.Errorf("secret leaked in %q", o)
		}
	}
	if c.WeCom.Secret.Reveal() != value {
		t.Error("Reveal lost the value")
	}
}

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load("../config.example.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.District.Name == "" || len(c.Rules.Escalation) != 4 {
		t.Errorf("example config lost values: %+v", c.District)
	}
}

func TestSpanAndClock(t *testing.T) {
	for in, want := range map[string]Span{"5wd": {5, Workdays}, "-1wd": {-1, Workdays}, "24h": {24, Hours}, "3d": {3, Days}, "0": {0, Workdays}} {
		got, err := ParseSpan(in)
		if err != nil || got != want {
			t.Errorf("ParseSpan(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "5", "wd", "5w", "x5d"} {
		if _, err := ParseSpan(bad); err == nil {
			t.Errorf("ParseSpan(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"24:00", "7:5", "1730", "ab:cd"} {
		if _, err := ParseClock(bad); err == nil {
			t.Errorf("ParseClock(%q) accepted", bad)
		}
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := MustClock("18:00").On(time.Date(2026, 11, 20, 9, 0, 0, 0, loc))
	if at.Format("2006-01-02 15:04 MST") != "2026-11-20 18:00 CST" {
		t.Errorf("On = %v", at)
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[string]Size{"200MB": 200 * MB, "200 MiB": 200 * MB, "512kb": 512 * KB, "1G": GB, "1048576": MB, "10B": 10} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "MB", "5I", "-1MB", "1.5GB", "200 megabytes", "99999999999GB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	if s := (200 * MB).String(); s != "200MB" {
		t.Errorf("String = %q", s)
	}
	if Default().Import.MaxFileSize != 200*MB {
		t.Errorf("default import.max_file_size = %v", Default().Import.MaxFileSize)
	}
}

func TestMain(m *testing.M) {
	// Whatever the machine's zone, the configured one rules.
	os.Setenv("TZ", "America/New_York")
	os.Exit(m.Run())
}
