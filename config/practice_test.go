package config

import (
	"testing"
	"time"
)

func TestPracticeDefaultsAndChecks(t *testing.T) {
	c := Default()
	a, r := c.Rules.Accountability, c.Rules.Rectify
	if !a.Blacklist || a.UrgedPerWeek != 3 || a.ScoreFloor != 85 || a.FloorWeeks != 2 || a.ReviewWithin != MustSpan("5wd") || a.ResetAfter != MustSpan("90d") {
		t.Errorf("accountability defaults %+v", a)
	}
	if r.QuickLimit != MustSpan("1wd") || r.TimedLimit != MustSpan("10wd") {
		t.Errorf("rectify defaults %+v", r)
	}
	for text, want := range map[string]string{
		"rules: {accountability: {floor_weeks: -1}}":    "config: rules.accountability.floor_weeks must not be negative",
		"rules: {accountability: {score_floor: 120}}":   "config: rules.accountability.score_floor must be between 0 and 100",
		"rules: {accountability: {review_within: 0}}":   "config: rules.accountability.review_within must be positive",
		"rules: {rectify: {quick_limit: 0}}":            "config: rules.rectify.quick_limit must be positive",
		"rules: {accountability: {urged_per_week: -2}}": "config: rules.accountability.urged_per_week must not be negative",
	} {
		if _, err := Parse([]byte(text), nil); err == nil || err.Error() != want {
			t.Errorf("Parse(%q) = %v, want %s", text, err, want)
		}
	}
	c, err := Parse([]byte("rules: {accountability: {urged_per_week: 0, reset_after: 30d}}"), []string{"YANZHEN_RULES_RECTIFY_QUICK_LIMIT=4h"})
	if err != nil || c.Rules.Accountability.UrgedPerWeek != 0 || c.Rules.Rectify.QuickLimit != MustSpan("4h") {
		t.Fatalf("overrides: %+v %v", c.Rules, err)
	}
	// A span counts on the calendar for working days, and plainly otherwise.
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if got := MustSpan("4h").From(at, nil); !got.Equal(at.Add(4 * time.Hour)) {
		t.Errorf("4h from %v = %v", at, got)
	}
	if got := MustSpan("2wd").From(at, fakeWorkdays{}); !got.Equal(at.AddDate(0, 0, 20)) {
		t.Errorf("2wd from %v = %v", at, got)
	}
}

// fakeWorkdays counts ten calendar days to a working day.
type fakeWorkdays struct{}

func (fakeWorkdays) AddWorkdays(t time.Time, n int) time.Time { return t.AddDate(0, 0, 10*n) }
