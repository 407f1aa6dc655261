// Package config reads yanzhen's YAML configuration, applies YANZHEN_* environment
// overrides and validates the result. Secrets are typed so that they never print.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment override: YANZHEN_WECOM_SECRET sets wecom.secret.
const EnvPrefix = "YANZHEN_"

// Config is the whole configuration. The zero value is not usable: start from Default.
type Config struct {
	Timezone string   `yaml:"timezone" env:"TIMEZONE"`
	District District `yaml:"district" envPrefix:"DISTRICT_"`
	Database Database `yaml:"database" envPrefix:"DATABASE_"`
	HTTP     HTTP     `yaml:"http" envPrefix:"HTTP_"`
	Log      Log      `yaml:"log" envPrefix:"LOG_"`
	WeCom    WeCom    `yaml:"wecom" envPrefix:"WECOM_"`
	Outbox   Outbox   `yaml:"outbox" envPrefix:"OUTBOX_"`
	Schedule Schedule `yaml:"schedule" envPrefix:"SCHEDULE_"`
	Rules    Rules    `yaml:"rules" envPrefix:"RULES_"`
	Import   Import   `yaml:"import" envPrefix:"IMPORT_"`
	Tickets  Tickets  `yaml:"tickets" envPrefix:"TICKETS_"`

	loc *time.Location
}

// District names the district whose group the bot serves; the names appear in report titles.
type District struct {
	Name      string `yaml:"name" env:"NAME"`
	GroupName string `yaml:"group_name" env:"GROUP_NAME"`
}

// Database selects the store: driver sqlite (a file, created on first run) or mysql.
type Database struct {
	Driver string `yaml:"driver" env:"DRIVER"`
	DSN    Secret `yaml:"dsn" env:"DSN"`
}

// HTTP configures the listener. AdminToken guards /api and /admin; empty disables them.
type HTTP struct {
	Listen     string `yaml:"listen" env:"LISTEN"`
	AdminToken Secret `yaml:"admin_token" env:"ADMIN_TOKEN"`
}

// Log configures logging: format json or console, level debug, info, warn or error.
// Empty format means json under serve and console under demo.
type Log struct {
	Format string `yaml:"format" env:"FORMAT"`
	Level  string `yaml:"level" env:"LEVEL"`
}

// WeCom holds the corp credentials and the crypto of the three callback routes.
type WeCom struct {
	APIBase      string   `yaml:"api_base" env:"API_BASE"`
	CorpID       string   `yaml:"corp_id" env:"CORP_ID"`
	AgentID      int64    `yaml:"agent_id" env:"AGENT_ID"`
	Secret       Secret   `yaml:"secret" env:"SECRET"`
	ReplayWindow Duration `yaml:"replay_window" env:"REPLAY_WINDOW"`
	AppCallback  Callback `yaml:"app_callback" envPrefix:"APP_CALLBACK_"`
	Robot        Robot    `yaml:"robot" envPrefix:"ROBOT_"`
	// Robots are the robots of the work groups by name, as the org file's
	// groups name them (groups[].robot). Each posts with its own key to its
	// group's chat id and has its own callback crypto. Env overrides:
	// YANZHEN_WECOM_ROBOTS_<NAME>_WEBHOOK_KEY, _TOKEN, _AES_KEY.
	Robots map[string]Robot `yaml:"robots" env:"-"`
	AIBot  AIBot            `yaml:"aibot" envPrefix:"AIBOT_"`
	// BotName is the robot's display name, stripped from the start of @-messages.
	BotName string `yaml:"bot_name" env:"BOT_NAME"`
}

// Callback is the crypto of one callback route.
type Callback struct {
	Token  Secret `yaml:"token" env:"TOKEN"`
	AESKey Secret `yaml:"aes_key" env:"AES_KEY"`
}

// Robot is the group robot: the webhook key it posts with, the chat id of
// its work group, and its callback crypto.
type Robot struct {
	WebhookKey Secret `yaml:"webhook_key" env:"WEBHOOK_KEY"`
	// ChatID is the work group's chat id: a robot in several groups posts
	// to this one (without it, WeCom would post to all of them).
	ChatID string `yaml:"chat_id" env:"CHAT_ID"`
	Token  Secret `yaml:"token" env:"TOKEN"`
	AESKey Secret `yaml:"aes_key" env:"AES_KEY"`
}

// AI bot modes: how the 智能机器人 receives messages.
const (
	// AIBotCallback receives them on the callback route /wecom/aibot (a
	// public HTTPS URL, token and aes_key).
	AIBotCallback = "callback"
	// AIBotWebSocket dials out to WeCom and receives them on a long
	// connection (bot_id and secret; no public URL).
	AIBotWebSocket = "websocket"
)

// DefaultAIBotWSURL is WeCom's address for the AI bot's long connection.
const DefaultAIBotWSURL = "wss://openws.work.weixin.qq.com"

// AIBot is the 智能机器人. In mode callback it is served on /wecom/aibot with
// Token and AESKey; in mode websocket it dials WSURL and subscribes with
// BotID and Secret, replies on the connection, and posts to the group ChatID
// by aibot_send_msg.
type AIBot struct {
	Mode   string `yaml:"mode" env:"MODE"`
	Token  Secret `yaml:"token" env:"TOKEN"`
	AESKey Secret `yaml:"aes_key" env:"AES_KEY"`
	BotID  string `yaml:"bot_id" env:"BOT_ID"`
	Secret Secret `yaml:"secret" env:"SECRET"`
	WSURL  string `yaml:"ws_url" env:"WS_URL"`
	// ChatID is the work group's chatid for proactive pushes; the log names
	// it when the first group message arrives.
	ChatID string `yaml:"chat_id" env:"CHAT_ID"`
}

// WebSocket reports whether the AI bot runs on the long connection.
func (a AIBot) WebSocket() bool { return a.Mode == AIBotWebSocket }

// Outbox configures delivery: per-destination rate limits and how long to keep retrying.
type Outbox struct {
	RobotPerMinute int      `yaml:"robot_per_minute" env:"ROBOT_PER_MINUTE"`
	UserPerMinute  int      `yaml:"user_per_minute" env:"USER_PER_MINUTE"`
	GiveUpAfter    Duration `yaml:"give_up_after" env:"GIVE_UP_AFTER"`
	PollEvery      Duration `yaml:"poll_every" env:"POLL_EVERY"`
}

// Schedule configures the scheduler. Enabled false starts no jobs in this process.
type Schedule struct {
	Enabled      bool     `yaml:"enabled" env:"ENABLED"`
	RemindAt     Clock    `yaml:"remind_at" env:"REMIND_AT"`
	ReportAt     Clock    `yaml:"report_at" env:"REPORT_AT"`
	DigestAt     Clock    `yaml:"digest_at" env:"DIGEST_AT"`
	OverdueEvery Duration `yaml:"overdue_every" env:"OVERDUE_EVERY"`
	// WeeklyDay is the weekday of the weekly report, 1 = Monday … 7 = Sunday.
	WeeklyDay int   `yaml:"weekly_day" env:"WEEKLY_DAY"`
	WeeklyAt  Clock `yaml:"weekly_at" env:"WEEKLY_AT"`
	// MonthlyDay is the day of the month of the monthly report.
	MonthlyDay int   `yaml:"monthly_day" env:"MONTHLY_DAY"`
	MonthlyAt  Clock `yaml:"monthly_at" env:"MONTHLY_AT"`
	// RollupAt is the time of the morning roll-up of standing overdue items,
	// on working days: the one time a day the group hears of them.
	RollupAt Clock `yaml:"rollup_at" env:"ROLLUP_AT"`
	// Grace is how late a slot missed while the service was down may still run (marked 补发).
	Grace Duration `yaml:"grace" env:"GRACE"`
}

// Rules are the district's working rules: time limits, the working day, the
// escalation ladder and the scoring of 三率.
type Rules struct {
	// TimeLimits maps a ticket category to its time limit; the platform's own deadline wins.
	TimeLimits map[string]Span `yaml:"time_limits" env:"TIME_LIMITS"`
	// DefaultLimit applies to categories missing from TimeLimits.
	DefaultLimit Span `yaml:"default_limit" env:"DEFAULT_LIMIT"`
	// OffWork is 下班: a date without a time means this time on that day.
	OffWork Clock `yaml:"off_work" env:"OFF_WORK"`
	// WorkStart and WorkEnd bound the hours in which alerts are pushed.
	WorkStart Clock `yaml:"work_start" env:"WORK_START"`
	WorkEnd   Clock `yaml:"work_end" env:"WORK_END"`
	// WarnWithin is the "due soon" window of reports.
	WarnWithin Duration `yaml:"warn_within" env:"WARN_WITHIN"`
	// Escalation is the ladder, in order; each level fires once per subject.
	Escalation []Step `yaml:"escalation"`
	// RepeatEvery repeats the current level's reminder while the subject stays open.
	RepeatEvery Duration `yaml:"repeat_every" env:"REPEAT_EVERY"`
	// TicketNumber is the regular expression a ticket number matches in chat text.
	TicketNumber string `yaml:"ticket_number" env:"TICKET_NUMBER"`
	Scores       Scores `yaml:"scores" envPrefix:"SCORES_"`
	// RankTop is N of the red and black lists (红黑榜).
	RankTop int `yaml:"rank_top" env:"RANK_TOP"`
	// GroupDailyBudget is how many messages a day the bot posts to a work
	// group, replies and the daily report (补报 included) aside; once it is
	// spent, overdue digests fold into the next morning roll-up.
	GroupDailyBudget int `yaml:"group_daily_budget" env:"GROUP_DAILY_BUDGET"`
	// Accountability is the ladder of 问责; Rectify the limits of 整改清单 (practice.go).
	Accountability Accountability `yaml:"accountability" envPrefix:"ACCOUNTABILITY_"`
	Rectify        Rectify        `yaml:"rectify" envPrefix:"RECTIFY_"`
	// Raise is 提级: per level (社区, 镇街) and ticket category, how long an
	// open ticket may stay at the level before it is raised to the level
	// above (a community's to its street, a street's to the district); the
	// key "default" covers the categories not listed. A level given no limit
	// ({}) keeps its tickets; a level the file leaves out keeps its default.
	Raise map[string]map[string]Span `yaml:"raise" env:"-"`
}

// Step is one level of the escalation ladder: At is relative to the deadline
// ("-1wd" one working day before, "0" at it, "5wd" five working days after);
// Notify is who hears of it: handler, head, leader or group.
type Step struct {
	Level  Level  `yaml:"level"`
	Name   string `yaml:"name"`
	At     Span   `yaml:"at"`
	Notify Notify `yaml:"notify"`
}

// Scores weighs 三率 into the 综合评分 and sets the assessment period.
type Scores struct {
	Response     float64 `yaml:"response" env:"RESPONSE"`
	Resolution   float64 `yaml:"resolution" env:"RESOLUTION"`
	Satisfaction float64 `yaml:"satisfaction" env:"SATISFACTION"`
	// BasicSatisfied is the weight of 基本满意 in 满意率.
	BasicSatisfied float64 `yaml:"basic_satisfied" env:"BASIC_SATISFIED"`
	// PeriodStartDay is the day of the month an assessment period starts.
	PeriodStartDay int `yaml:"period_start_day" env:"PERIOD_START_DAY"`
	// MinSample is the fewest valid return visits (有效回访) a unit needs in a
	// period to be ranked; a unit with fewer is shown as 样本不足, unranked.
	MinSample int `yaml:"min_sample" env:"MIN_SAMPLE"`
}

// Import bounds the files imported, by `yanzhen import` and the API alike:
// ticket exports (xlsx, csv) and org files.
type Import struct {
	// MaxFileSize is the largest file accepted; a larger one is refused
	// before any row is read (a stream, when it grows past it).
	MaxFileSize Size `yaml:"max_file_size" env:"MAX_FILE_SIZE"`
}

// Tickets configures where tickets come from besides the CLI, the API and chat.
type Tickets struct {
	// WatchDir is a folder (a share the 12345 office drops its exports on)
	// whose new .xlsx and .csv files are imported every few minutes, each
	// once; empty turns the watch off.
	WatchDir string `yaml:"watch_dir" env:"WATCH_DIR"`
}

// Level names a level of the escalation ladder.
type Level string

// Escalation levels, in ladder order.
const (
	LevelWarn      Level = "warn"
	LevelAlert     Level = "alert"
	LevelUrge      Level = "urge"
	LevelBlacklist Level = "blacklist"
)

// Notify says who hears of a level of the escalation ladder.
type Notify string

// Who an escalation level notifies.
const (
	NotifyHandler Notify = "handler"
	NotifyHead    Notify = "head"
	NotifyLeader  Notify = "leader"
	NotifyGroup   Notify = "group"
)

// Default returns the configuration every file is laid over: the defaults of DESIGN §4 and §5.
func Default() *Config {
	c := &Config{
		Timezone: "Asia/Shanghai",
		District: District{Name: "高新区", GroupName: "高新区联系服务群众工作群"},
		Database: Database{Driver: "sqlite", DSN: "yanzhen.db"},
		HTTP:     HTTP{Listen: "127.0.0.1:8080"},
		Log:      Log{Level: "info"},
		WeCom: WeCom{
			APIBase:      "https://qyapi.weixin.qq.com",
			ReplayWindow: Duration(10 * time.Minute),
			BotName:      "雁阵",
			AIBot:        AIBot{Mode: AIBotCallback, WSURL: DefaultAIBotWSURL},
		},
		Outbox: Outbox{RobotPerMinute: 20, UserPerMinute: 30, GiveUpAfter: Duration(24 * time.Hour), PollEvery: Duration(time.Second)},
		Schedule: Schedule{
			Enabled:      true,
			RemindAt:     MustClock("17:30"),
			ReportAt:     MustClock("18:00"),
			DigestAt:     MustClock("23:00"),
			OverdueEvery: Duration(15 * time.Minute),
			WeeklyDay:    5,
			WeeklyAt:     MustClock("17:00"),
			MonthlyDay:   1,
			MonthlyAt:    MustClock("09:00"),
			RollupAt:     MustClock("09:00"),
			Grace:        Duration(2 * time.Hour),
		},
		Rules: Rules{
			GroupDailyBudget: 30,
			TimeLimits: map[string]Span{
				"咨询": MustSpan("1wd"), "政策咨询": MustSpan("1wd"),
				"求助": MustSpan("5wd"), "个人求决": MustSpan("5wd"),
				"投诉": MustSpan("10wd"), "举报": MustSpan("10wd"), "集体诉求": MustSpan("10wd"),
				"建议": MustSpan("15wd"), "意见建议": MustSpan("15wd"),
				"其他": MustSpan("5wd"),
			},
			DefaultLimit: MustSpan("5wd"),
			OffWork:      MustClock("18:00"),
			WorkStart:    MustClock("08:30"),
			WorkEnd:      MustClock("21:00"),
			WarnWithin:   Duration(24 * time.Hour),
			Escalation: []Step{
				{Level: LevelWarn, Name: "预警", At: MustSpan("-1wd"), Notify: NotifyHandler},
				{Level: LevelAlert, Name: "超期", At: MustSpan("0"), Notify: NotifyHead},
				{Level: LevelUrge, Name: "催办", At: MustSpan("1wd"), Notify: NotifyLeader},
				{Level: LevelBlacklist, Name: "通报", At: MustSpan("5wd"), Notify: NotifyGroup},
			},
			RepeatEvery:  Duration(4 * time.Hour),
			TicketNumber: `[A-Za-z]{1,6}\d{6,}|\d{8,}`,
			Scores: Scores{
				Response: 0.1, Resolution: 0.5, Satisfaction: 0.4,
				BasicSatisfied: 0.9, PeriodStartDay: 1, MinSample: 5,
			},
			RankTop:        3,
			Accountability: defaultAccountability(),
			Rectify:        defaultRectify(),
			Raise: map[string]map[string]Span{
				"社区": {RaiseDefault: MustSpan("5wd")},
				"镇街": {RaiseDefault: MustSpan("10wd")},
			},
		},
		Import: Import{MaxFileSize: 200 * MB},
	}
	c.loc, _ = time.LoadLocation(c.Timezone)
	return c
}

// Error is a configuration problem: one line naming the key and the rule.
type Error struct {
	Key, Rule string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return "config: " + e.Rule
	}
	return "config: " + e.Key + " " + e.Rule
}

// Load reads the YAML file at path over the defaults, applies environment overrides
// from environ (os.Environ() in production) and validates the result.
func Load(path string, environ []string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Rule: fmt.Sprintf("file %s not found", path)}
		}
		return nil, &Error{Rule: fmt.Sprintf("cannot read %s: %v", path, err)}
	}
	return Parse(b, environ)
}

// Parse is Load on the YAML text itself. Empty text means the defaults.
func Parse(text []byte, environ []string) (*Config, error) {
	c := Default()
	if len(bytes.TrimSpace(text)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(text))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return nil, &Error{Rule: "is not valid YAML: " + yamlMessage(err)}
		}
	}
	if err := c.applyEnv(environ); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return te.Errors[0]
	}
	return err.Error()
}

func (c *Config) applyEnv(environ []string) error {
	vars := env.ToMap(environ)
	if err := env.ParseWithOptions(c, env.Options{Prefix: EnvPrefix, Environment: vars}); err == nil {
		c.applyRobotsEnv(vars)
		return nil
	}
	// The library names the Go field, not the variable: find the variable that fails alone.
	for name, value := range vars {
		if !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		one := map[string]string{name: value}
		if env.ParseWithOptions(Default(), env.Options{Prefix: EnvPrefix, Environment: one}) != nil {
			return &Error{Key: name, Rule: "has a value of the wrong form"}
		}
	}
	return &Error{Rule: "environment overrides have a value of the wrong form"}
}

// Location returns the configured time zone. Everything that stamps or reads time uses it.
func (c *Config) Location() *time.Location { return c.loc }

// Domain is the part of the configuration that handlers, report and jobs
// read: the district, its schedule and rules, the robot's display name and
// the zone. It holds no secret.
type Domain struct {
	District District
	Schedule Schedule
	Rules    Rules
	Tickets  Tickets
	// BotName is the robot's display name, a hint for stripping @-mentions.
	BotName string
	loc     *time.Location
}

// Domain returns the domain packages' part of the configuration.
func (c *Config) Domain() Domain {
	return Domain{District: c.District, Schedule: c.Schedule, Rules: c.Rules, Tickets: c.Tickets, BotName: c.WeCom.BotName, loc: c.loc}
}

// Location returns the configured time zone.
func (d Domain) Location() *time.Location { return d.loc }

// Validate checks every key and returns the first problem as an *Error.
func (c *Config) Validate() error {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		return &Error{Key: "timezone", Rule: "must be an IANA zone such as Asia/Shanghai"}
	}
	c.loc = loc
	checks := []check{
		{c.Database.Driver == "sqlite" || c.Database.Driver == "mysql", "database.driver", "must be sqlite or mysql"},
		{c.Database.DSN.IsSet(), "database.dsn", "must be set"},
		{c.HTTP.Listen != "", "http.listen", "must be set, e.g. 127.0.0.1:8080"},
		{c.Log.Format == "" || c.Log.Format == "json" || c.Log.Format == "console", "log.format", "must be json or console"},
		{oneOf(c.Log.Level, "debug", "info", "warn", "error"), "log.level", "must be debug, info, warn or error"},
		{isHTTPURL(c.WeCom.APIBase), "wecom.api_base", "must be an http(s) URL"},
		{c.WeCom.AgentID >= 0, "wecom.agent_id", "must not be negative"},
		{c.WeCom.ReplayWindow >= 0, "wecom.replay_window", "must not be negative"},
		{c.Outbox.RobotPerMinute > 0, "outbox.robot_per_minute", "must be positive"},
		{c.Outbox.UserPerMinute > 0, "outbox.user_per_minute", "must be positive"},
		{c.Outbox.GiveUpAfter > 0, "outbox.give_up_after", "must be positive"},
		{c.Outbox.PollEvery > 0, "outbox.poll_every", "must be positive"},
		{c.Schedule.OverdueEvery.D() >= time.Minute, "schedule.overdue_every", "must be at least 1m"},
		{c.Schedule.WeeklyDay >= 1 && c.Schedule.WeeklyDay <= 7, "schedule.weekly_day", "must be 1 (Monday) to 7 (Sunday)"},
		{c.Schedule.MonthlyDay >= 1 && c.Schedule.MonthlyDay <= 28, "schedule.monthly_day", "must be 1 to 28"},
		{c.Schedule.Grace >= 0, "schedule.grace", "must not be negative"},
		{c.Rules.WorkStart.Minutes() < c.Rules.WorkEnd.Minutes(), "rules.work_end", "must be later than rules.work_start"},
		{c.Rules.DefaultLimit.N > 0, "rules.default_limit", "must be positive"},
		{c.Rules.RepeatEvery >= 0, "rules.repeat_every", "must not be negative"},
		{c.Rules.WarnWithin >= 0, "rules.warn_within", "must not be negative"},
		{c.Rules.RankTop > 0, "rules.rank_top", "must be positive"},
		{c.Rules.GroupDailyBudget >= 0, "rules.group_daily_budget", "must not be negative"},
		{c.Rules.Scores.PeriodStartDay >= 1 && c.Rules.Scores.PeriodStartDay <= 28, "rules.scores.period_start_day", "must be 1 to 28"},
		{c.Rules.Scores.BasicSatisfied >= 0 && c.Rules.Scores.BasicSatisfied <= 1, "rules.scores.basic_satisfied", "must be between 0 and 1"},
		{c.Rules.Scores.MinSample >= 1, "rules.scores.min_sample", "must be at least 1"},
		{weightsOK(c.Rules.Scores), "rules.scores", "weights must be non-negative and sum to 1"},
		{c.Import.MaxFileSize >= MB && c.Import.MaxFileSize <= 2*GB, "import.max_file_size", "must be between 1MB and 2GB"},
	}
	for _, ch := range append(checks, c.practiceChecks()...) {
		if !ch.ok {
			return &Error{Key: ch.key, Rule: ch.rule}
		}
	}
	if _, err := regexp.Compile(c.Rules.TicketNumber); err != nil || c.Rules.TicketNumber == "" {
		return &Error{Key: "rules.ticket_number", Rule: "must be a valid regular expression"}
	}
	for cat, l := range c.Rules.TimeLimits {
		if l.N <= 0 {
			return &Error{Key: "rules.time_limits." + cat, Rule: "must be positive"}
		}
	}
	if err := c.validateLadder(); err != nil {
		return err
	}
	if err := c.validateRaise(); err != nil {
		return err
	}
	if err := c.WeCom.AIBot.validate(); err != nil {
		return err
	}
	return c.validateCrypto()
}

// TimeLimit returns the limit of a ticket category, or the default limit.
func (r Rules) TimeLimit(category string) Span {
	if l, ok := r.TimeLimits[category]; ok {
		return l
	}
	return r.DefaultLimit
}
