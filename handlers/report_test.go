package handlers_test

import (
	"testing"

	"yanzhen/models"
)

// A report may name other units in its text: only a unit named before the
// text (followed by a blank, a colon or a comma) says whose report it is.
func TestReportNamingAnotherUnitIsTheSendersOwn(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		joint := "城管局、住建局联合整治学府路占道经营3处"
		if body := x.say("zhangsan", "日报 "+joint).only(); body != "已收到住建局11月20日日报（第1版，20字）。" {
			t.Errorf("joint action: %q", body)
		}
		// A leading name that is a list of units is kept with the rest.
		if body := x.say("zhangsan", "日报 住建局、城管局联合整治占道经营").only(); body != "已更新住建局11月20日日报（第2版，15字）。" {
			t.Errorf("list of units: %q", body)
		}
		reports, err := x.store.DailyReports(ctx, "2026-11-20")
		if err != nil {
			t.Fatal(err)
		}
		if got := reports[x.dept["zjj"].ID].Text; got != "住建局、城管局联合整治占道经营" {
			t.Errorf("stored text %q", got)
		}
		if _, ok := reports[x.dept["cgj"].ID]; ok {
			t.Error("a joint action was recorded as 城管局's report")
		}
		// Naming one's own unit as the label still works; a reporter of two
		// units may not report for a third.
		if body := x.say("zhangsan", "日报 住建局：今日办结工单5件").only(); body != "已更新住建局11月20日日报（第3版，8字）。" {
			t.Errorf("own unit named: %q", body)
		}
		contains(t, "reporter naming a third unit", x.say("qianqi", "日报 住建局 代报今日情况").only(), "您不能代住建局报送日报")
	})
}

// A report of emoji, punctuation or a word or two is refused with the usage
// line and changes nothing.
func TestEmptyReportsAreRefused(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		want := "日报内容过短：正文至少4个字（表情和标点不计）。用法：日报 [部门] <正文>"
		for _, text := range []string{"日报 👍", "日报 😀😀😀😀😀😀", "日报 好的", "日报 。。。！！！", "日报 住建局", "日报 住建局：👌👌👌👌"} {
			if body := x.say("zhangsan", text).only(); body != want {
				t.Errorf("%q → %q", text, body)
			}
		}
		if n := x.count(&models.DailyReport{}); n != 0 {
			t.Errorf("%d reports stored from refused texts", n)
		}
		if body := x.say("zhangsan", "日报 今日无事").only(); body != "已收到住建局11月20日日报（第1版，4字）。" {
			t.Errorf("a short real report: %q", body)
		}
		if body := x.say("zhangsan", "补充日报 👍👍").only(); body != "日报内容过短：正文至少4个字（表情和标点不计）。用法：补充日报 [部门] <正文>" {
			t.Errorf("emoji addition: %q", body)
		}
	})
}
