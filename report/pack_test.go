package report_test

import (
	"fmt"
	"strings"
	"testing"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// bigDaily is a district of n departments, the first required of which report
// with a text of about 150 bytes, the rest of the required ones not at all.
func bigDaily(n, required, reported int) *report.Daily {
	d := &report.Daily{
		District: "高新区",
		Day:      models.DayOf(at("2026-11-20 00:00"), at("2026-11-20 00:00").Location()),
		Month:    models.MonthOf(at("2026-11-20 00:00"), at("2026-11-20 00:00").Location(), 1),
	}
	for i := 0; i < n; i++ {
		dep := models.Department{ID: uint(i + 1), Name: fmt.Sprintf("第%d社区居委会", i+1), Tier: models.TierCommunity, Sort: i}
		u := report.Unit{
			Figures: models.LedgerRow{Received: 12, Resolved: 9, InProgress: 130, Overdue: i % 3, DueSoon: 4},
			Rates:   models.ScoreCounts{Valid: 40, Contacted: 39, Resolved: 35, Satisfied: 30, BasicSatisfied: 5}.Rates(models.Weights{Response: 0.1, Resolution: 0.5, Satisfaction: 0.4, BasicSatisfied: 0.9}),
		}
		if i < required {
			dep.Tier, dep.ReportRequired = models.TierDepartment, true
			dep.Name = fmt.Sprintf("区第%d局", i+1)
			if i < reported {
				u.Report = &models.DailyReport{ID: uint(i + 1), Text: strings.Repeat("今日办结工单若干件，", 5)}
			} else {
				u.Responsible = []string{fmt.Sprintf("head%d", i+1)}
			}
		}
		u.Department = dep
		d.Units = append(d.Units, u)
	}
	return d
}

func TestDailyPacksFiveHundredDepartments(t *testing.T) {
	d := bigDaily(500, 80, 70)
	msgs := bodies(d.Message())
	if len(msgs) > 20 {
		t.Errorf("500 departments take %d messages, want at most 20", len(msgs))
	}
	total := 0
	for i, m := range msgs {
		total += len(m)
		if len(m) > 4096 {
			t.Errorf("message %d has %d bytes", i+1, len(m))
		}
		if i > 0 && !strings.HasPrefix(m, fmt.Sprintf("**高新区接诉即办工作日报（续%d/%d）**\n", i+1, len(msgs))) {
			t.Errorf("message %d starts %q", i+1, m[:60])
		}
	}
	// No department's section is split: each name is in exactly one message.
	for _, u := range d.Units {
		in := 0
		for _, m := range msgs {
			if strings.Contains(m, u.Department.Name+"**") || strings.Contains(m, u.Department.Name+"　") {
				in++
			}
		}
		if in != 1 {
			t.Fatalf("%s appears in %d messages", u.Department.Name, in)
		}
	}
	t.Logf("500 departments: %d messages, %d bytes", len(msgs), total)
}

func TestDailySplitsAnOverlongSectionAtLines(t *testing.T) {
	d := bigDaily(3, 3, 3)
	d.Units[1].Report.Text = strings.Repeat("这是一行很长的日报内容，共计三十个汉字左右的长度啊。\n", 200)
	msgs := bodies(d.Message())
	if len(msgs) < 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, m := range msgs {
		if len(m) > 4096 {
			t.Errorf("message %d has %d bytes", i+1, len(m))
		}
		for _, line := range strings.Split(m, "\n") {
			if strings.HasPrefix(line, "> ") && line != "> 这是一行很长的日报内容，共计三十个汉字左右的长度啊。" && !strings.HasPrefix(line, "> 今日") {
				t.Fatalf("message %d has a cut line %q", i+1, line)
			}
		}
	}
}

// bodies returns the bodies of the rows m becomes.
func bodies(m msg.Message) []string {
	var out []string
	for _, r := range rendered(m) {
		out = append(out, r.Body)
	}
	return out
}
