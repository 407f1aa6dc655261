package config

// The district practice beyond ranking and reminding (DESIGN §1): the
// accountability ladder of units that keep lagging (第一次提醒、第二次约谈、
// 第三次责令检视) and the rectification list (整改清单).

// Accountability sets when a unit climbs the accountability ladder (问责).
// Each evaluation — the weekly report's and the monthly report's — moves a
// unit that meets any trigger one step up: 提醒, then 约谈, then 责令检视.
type Accountability struct {
	// Blacklist triggers on the monthly 黑榜 (the monthly report's black list).
	Blacklist bool `yaml:"blacklist" env:"BLACKLIST"`
	// UrgedPerWeek triggers when this many of a unit's tickets reached the
	// 催办 level (urge) of the escalation ladder in a week; 0 turns it off.
	UrgedPerWeek int `yaml:"urged_per_week" env:"URGED_PER_WEEK"`
	// ScoreFloor and FloorWeeks trigger when a ranked unit's weekly 综合评分
	// (the 三率 weighed) stayed below ScoreFloor for FloorWeeks weeks running
	// since its last step; FloorWeeks 0 turns it off.
	ScoreFloor float64 `yaml:"score_floor" env:"SCORE_FLOOR"`
	FloorWeeks int     `yaml:"floor_weeks" env:"FLOOR_WEEKS"`
	// ReviewWithin is how long a unit ordered to examine itself (责令检视)
	// has for its 检视报告.
	ReviewWithin Span `yaml:"review_within" env:"REVIEW_WITHIN"`
	// ResetAfter is how long a unit must go without a step before its next
	// trigger starts the ladder again at 提醒.
	ResetAfter Span `yaml:"reset_after" env:"RESET_AFTER"`
}

// Rectify sets the time limits of the rectification list (整改清单).
type Rectify struct {
	// QuickLimit is the limit of an item to fix at once (即知即改) registered
	// without a date of its own.
	QuickLimit Span `yaml:"quick_limit" env:"QUICK_LIMIT"`
	// TimedLimit is the limit an item gets when a leader refuses to let it
	// stand as 无法整改 (it is then 限时整改).
	TimedLimit Span `yaml:"timed_limit" env:"TIMED_LIMIT"`
}

// defaultAccountability follows the seeds: a unit on the monthly 黑榜, with
// three tickets urged (催办) in a week, or with a 综合评分 below 85 two weeks
// running climbs one step; a 检视报告 is due in five working days; a quarter
// without a step starts the ladder again.
func defaultAccountability() Accountability {
	return Accountability{
		Blacklist: true, UrgedPerWeek: 3, ScoreFloor: 85, FloorWeeks: 2,
		ReviewWithin: MustSpan("5wd"), ResetAfter: MustSpan("90d"),
	}
}

// defaultRectify: 即知即改 within one working day, a refused 无法整改 within ten.
func defaultRectify() Rectify {
	return Rectify{QuickLimit: MustSpan("1wd"), TimedLimit: MustSpan("10wd")}
}

// practiceChecks are the checks of Validate on these keys.
func (c *Config) practiceChecks() []check {
	a, r := c.Rules.Accountability, c.Rules.Rectify
	return []check{
		{a.UrgedPerWeek >= 0, "rules.accountability.urged_per_week", "must not be negative"},
		{a.FloorWeeks >= 0, "rules.accountability.floor_weeks", "must not be negative"},
		{a.ScoreFloor >= 0 && a.ScoreFloor <= 100, "rules.accountability.score_floor", "must be between 0 and 100"},
		{a.ReviewWithin.N > 0, "rules.accountability.review_within", "must be positive"},
		{a.ResetAfter.N > 0, "rules.accountability.reset_after", "must be positive"},
		{r.QuickLimit.N > 0, "rules.rectify.quick_limit", "must be positive"},
		{r.TimedLimit.N > 0, "rules.rectify.timed_limit", "must be positive"},
	}
}
