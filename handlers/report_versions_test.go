package handlers_test

import (
	"strings"
	"testing"
)

// A reporter's report and the head's are versions of one report of their
// unit: the latest is shown; each withdraws only their own; withdrawing the
// version shown falls back to the other's latest, which the group gets as a
// correction once the day's report went out.
func TestReportVersionsInChat(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.say("qianqi", "日报 城管局：今日处置占道经营5起")
		x.clock.Set(at("2026-11-20 10:05"))
		if body := x.say("chenyi", "日报 今日处置占道经营6起，办结4件").only(); body != "已更新城管局11月20日日报（第2版，15字）。" {
			t.Errorf("the head's version: %q", body)
		}
		x.clock.Set(at("2026-11-20 10:10"))
		if body := x.say("qianqi", "撤回日报 城管局").only(); body != "已撤回您报送的城管局11月20日日报版本。该单位日报以陈一 10:05报送的版本为准，未受影响。" {
			t.Errorf("the reporter withdrawing an older version: %q", body)
		}
		if body := x.say("qianqi", "撤回日报 城管局").only(); body != "今日日报由陈一报送，您只能撤回自己报送的版本" {
			t.Errorf("the reporter withdrawing the head's version: %q", body)
		}
		x.clock.Set(at("2026-11-20 10:20"))
		x.say("qianqi", "日报 城管局：今日处置占道经营7起")

		// The day's report goes out with the reporter's version.
		x.clock.Set(at("2026-11-20 18:00"))
		x.postDaily()

		// The reporter withdraws it: the head's version stands, as a correction.
		x.clock.Set(at("2026-11-20 18:30"))
		back := x.say("qianqi", "撤回日报 城管局")
		contains(t, "falling back", back.reply(), "已撤回您报送的城管局11月20日日报版本，现以陈一 10:05报送的版本为准。", "现行版本已作为更正发至工作群。")
		if g := back.group(); len(g) != 1 || !strings.Contains(g[0].Body, "【更正】城管局") || !strings.Contains(g[0].Body, "今日处置占道经营6起，办结4件") {
			t.Errorf("correction in the group: %+v", g)
		}
		// The head withdraws theirs: nothing stands, and the group is told.
		x.clock.Set(at("2026-11-20 18:40"))
		last := x.say("chenyi", "撤回日报")
		contains(t, "last version", last.reply(), "已撤回城管局11月20日日报。该日报已随今日日报发布，撤回情况已告知工作群。")
		if g := last.group(); len(g) != 1 || !strings.Contains(g[0].Body, "【撤回】城管局") || !strings.Contains(g[0].Body, "已由陈一于18:40撤回") {
			t.Errorf("withdrawal in the group: %+v", g)
		}
		reports, err := x.store.DailyReports(ctx, "2026-11-20")
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := reports[x.dept["cgj"].ID]; ok {
			t.Errorf("城管局's report stands after both versions were withdrawn: %+v", r)
		}
	})
}
