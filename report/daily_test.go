package report_test

import (
	"strings"
	"testing"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// A preview names the units that have not reported and mentions nobody; a
// past day's report says which figures are current.
func TestDailyPreviewAndPastDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		d, err := f.builder.Daily(ctx, at("2026-11-20 00:00"), at("2026-11-20 16:00"))
		must(t, err)
		if d.Past {
			t.Error("today's report is marked past")
		}
		d.Preview = true
		rows := rendered(d.Message())
		if len(rows) != 1 || len(rows[0].Mentions) != 0 || strings.Contains(rows[0].Body, "<@") {
			t.Fatalf("the preview mentions someone: %+v", rows)
		}
		for _, want := range []string{"预览（11月20日16:00，尚未发布）", "未报</font> 2 个：城管局、教育局\n"} {
			if !strings.Contains(rows[0].Body, want) {
				t.Errorf("preview lacks %q:\n%s", want, rows[0].Body)
			}
		}

		d, err = f.builder.Daily(ctx, at("2026-11-20 00:00"), at("2026-11-23 09:30"))
		must(t, err)
		body := rendered(d.Message())[0].Body
		for _, want := range []string{"当日受理 3 件，办结 1 件", "当日重办 1 件", "在办、超期、临期（24小时内到期）为11月23日09:30的当前数，不是当日数",
			"三率为2026年11月累计（11月1日至20日）"} {
			if !strings.Contains(body, want) {
				t.Errorf("past day's report lacks %q:\n%s", want, body)
			}
		}
	})
}
