package report_test

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"strings"
	"testing"

	"yanzhen/chart"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
)

// bars describes a chart's bars: group, label, values and tone.
func bars(c chart.Bars) string {
	var parts []string
	for _, g := range c.Groups {
		parts = append(parts, "["+g.Name+"]")
		for _, bar := range g.Bars {
			parts = append(parts, fmt.Sprintf("%s=%v/%d", bar.Label, bar.Values, bar.Tone))
		}
	}
	return strings.Join(parts, " ")
}

// decodedSize checks an attachment is a PNG image of the chart width.
func decodedSize(t *testing.T, a msg.Attachment) (int, int) {
	t.Helper()
	if a.Kind != msg.Image {
		t.Fatalf("%s is not an image", a.Name)
	}
	img, err := png.Decode(bytes.NewReader(a.Data))
	if err != nil {
		t.Fatal(err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func TestScoreChartOfTheMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		m, err := f.builder.Monthly(ctx, at("2026-12-01 09:00"))
		if err != nil {
			t.Fatal(err)
		}
		c := m.ScoreChart()
		b := c.Bars()
		// Ranked per tier by the ranking rules, best first; with so few units
		// the ties on top are the red list and the rest the black one. The
		// units too small to rank and those without a visit are in the note.
		if got, want := bars(b), "[区级部门] 1. 住建局=[100]/1 1. 教育局=[100]/1 3. 城管局=[81.2]/2"; got != want {
			t.Errorf("bars:\n%s\nwant\n%s", got, want)
		}
		if c.Title() != "高新区2026年11月综合评分排名" || b.Title != "高新区综合评分排名" || b.Subtitle != "2026年11月，有效回访18件" ||
			b.Reference == nil || b.Reference.Value != 89 || b.Note != "样本不足（有效回访不足5件）、未排名：环海街道、海滨社区；无有效回访（1个）：卫健委" {
			t.Errorf("title %q %q %q, reference %+v, note %q", c.Title(), b.Title, b.Subtitle, b.Reference, b.Note)
		}
		out, err := m.ChartMessage()
		if err != nil {
			t.Fatal(err)
		}
		if out == nil || len(out.Attachments) != 1 || out.DedupeKey != "monthly-report/2026-11-01/chart" || out.To.Group != "" || len(out.To.Members) > 0 {
			t.Fatalf("chart message %+v", out)
		}
		if w, h := decodedSize(t, out.Attachments[0]); w != chart.Width || h < 300 {
			t.Errorf("the chart is %d×%d", w, h)
		}
		// A month without a visit has no chart.
		empty, err := f.builder.Monthly(ctx, at("2026-10-01 09:00"))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := empty.ChartMessage(); out != nil || err != nil {
			t.Errorf("an empty month charts %+v (%v)", out, err)
		}
	})
}

func TestWeeklyChartGoesToTheMainLeader(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		w, err := f.builder.Weekly(ctx, at("2026-11-20 17:00"))
		if err != nil {
			t.Fatal(err)
		}
		c := w.Chart()
		// The unit with most first.
		if got, want := bars(c), "[按承办单位] 环海街道=[1 1]/0 城管局=[1 0]/0"; got != want {
			t.Errorf("bars %s, want %s", got, want)
		}
		out, err := w.ChartMessage()
		if err != nil {
			t.Fatal(err)
		}
		if out == nil || fmt.Sprint(out.To.Members) != "[wangwu]" || len(out.Attachments) != 1 || out.DedupeKey != "weekly-report/2026-11-16/leader/chart" {
			t.Fatalf("weekly chart %+v", out)
		}
		decodedSize(t, out.Attachments[0])
	})
}

func TestTrendOfAUnitBesideTheDistrict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		tr, err := f.builder.Trend(ctx, at("2026-11-20 18:00"), &f.cgj)
		if err != nil {
			t.Fatal(err)
		}
		c := tr.Chart()
		if fmt.Sprint(c.Labels) != "[6月 7月 8月 9月 10月 11月]" || c.Title != "城管局三率趋势" || len(c.Lines) != 5 || !c.Lines[4].Dashed || !c.Lines[0].Numbers {
			t.Fatalf("trend %q %v %d lines", c.Title, c.Labels, len(c.Lines))
		}
		score := c.Lines[0].Values
		for i := range 5 {
			if !math.IsNaN(score[i]) {
				t.Errorf("month %d has a score %v without a visit", i, score[i])
			}
		}
		if score[5] != 81.2 || c.Lines[4].Values[5] != 89 {
			t.Errorf("November: 城管局 %v, district %v", score[5], c.Lines[4].Values[5])
		}
		if !strings.Contains(c.Subtitle, "11月截至11月20日") || c.Note != "6月、7月、8月、9月、10月无有效回访。" {
			t.Errorf("subtitle %q note %q", c.Subtitle, c.Note)
		}
		atts, err := tr.Attachments()
		if err != nil || len(atts) != 1 || atts[0].Name != "城管局三率趋势.png" {
			t.Fatalf("attachments %v %v", atts, err)
		}
		decodedSize(t, atts[0])
		district, err := f.builder.Trend(ctx, at("2026-11-20 18:00"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if c := district.Chart(); c.Title != "高新区三率趋势" || len(c.Lines) != 4 || c.Lines[0].Values[5] != 89 {
			t.Errorf("district trend %q %d lines %v", c.Title, len(c.Lines), c.Lines[0].Values)
		}
	})
}
