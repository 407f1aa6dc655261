package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/models"
	"yanzhen/report"
)

// visits records n assessed tickets of a department visited at when: all
// contacted, resolved or not, with the answer sat.
func (x *harness) visits(dept string, n int, resolved bool, sat models.Satisfaction, when time.Time) {
	x.t.Helper()
	for range n {
		x.seq++
		tk := x.addTicket(fmt.Sprintf("20261101%05d", x.seq), dept, "", when)
		err := x.store.DB(ctx).Model(tk).Updates(map[string]any{"assessed": true, "contacted": true, "resolved": resolved,
			"satisfaction": sat, "visited_at": when, "status": models.TicketResolved, "resolved_at": when}).Error
		if err != nil {
			x.t.Fatal(err)
		}
	}
}

// addDepartment adds a department of the 部门 tier.
func (x *harness) addDepartment(code, name string, sort int) {
	x.t.Helper()
	d := models.Department{Code: code, Name: name, Tier: models.TierDepartment, Sort: sort}
	if _, err := x.store.UpsertDepartment(ctx, &d); err != nil {
		x.t.Fatal(err)
	}
	x.dept[code] = &d
}

// dailyRanking returns the ranking section of the daily report as it stands now.
func (x *harness) dailyRanking() string {
	x.t.Helper()
	d, err := report.New(x.store, x.cfg.Domain(), x.cal).Daily(ctx, x.clock.Now(), x.clock.Now())
	if err != nil {
		x.t.Fatal(err)
	}
	var body strings.Builder
	for _, row := range bot.NewOutbox(x.cfg.WeCom).Render(d.Message()) {
		body.WriteString(row.Body)
	}
	_, section, ok := strings.Cut(body.String(), "**三率排名**")
	if !ok {
		x.t.Fatalf("the daily report has no ranking:\n%s", body.String())
	}
	return section
}

// The chat's 排名 and 进度 and the daily report's ranking are one ranking:
// the same period, each tier on its own, ties sharing a rank and all on the
// red list, units with too few return visits named and never on a list.
func TestOneRankingEverywhere(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.addDepartment("mzj", "民政局", 35)
		early := at("2026-11-10 10:00")
		// Three departments tie at 100.00; 民政局 has more return visits.
		x.visits("zjj", 5, true, models.Satisfied, early)
		x.visits("cgj", 5, true, models.Satisfied, early)
		x.visits("mzj", 6, true, models.Satisfied, early)
		x.visits("jyj", 5, false, models.Satisfied, early) // 50.00
		// A street, below every department, is first of its tier.
		x.visits("hhjd", 5, false, models.BasicSatisfied, early) // 46.00

		chat := x.say("zhoujiu", "排名").only()
		contains(t, "排名", chat, "【三率排名】2026年11月累计（11月1日至20日）",
			"区级部门（4个单位参与排名）：\n1. 民政局 评分100.00｜响应100.00%（6/6） 解决100.00%（6/6） 满意100.00%（6/6）\n1. 住建局 评分100.00",
			"\n1. 城管局 评分100.00", "\n4. 教育局 评分50.00｜响应100.00%（5/5） 解决0.00%（0/5） 满意100.00%（5/5）",
			"镇街（1个单位参与排名）：\n1. 环海街道 评分46.00", "满意90.00%（5/5，含基本满意5）", "评分相同者名次并列，有效回访件数多者列前")
		if x.say("zhoujiu", "排名 本月").only() != chat {
			t.Error("排名 本月 differs from 排名")
		}
		// 进度 places a unit as 排名 does: within its tier.
		contains(t, "进度 环海街道", x.say("zhoujiu", "进度 环海街道").only(), "镇街第1名（共1个单位参与排名）")
		contains(t, "进度 城管局", x.say("zhoujiu", "进度 城管局").only(),
			"三率（2026年11月累计（11月1日至20日））：响应100.00%（5/5）", "综合评分 100.00，区级部门第1名（并列，共4个单位参与排名）")
		contains(t, "进度 教育局", x.say("zhoujiu", "进度 教育局").only(), "区级部门第4名（共4个单位参与排名）")

		// The daily report ranks the same period the same way: all three tied first are red.
		daily := x.dailyRanking()
		contains(t, "daily ranking", daily, "2026年11月累计（11月1日至20日）综合评分",
			"红榜</font>：1.民政局 100.00（回访6）、1.住建局 100.00（回访5）、1.城管局 100.00（回访5）\n",
			"黑榜</font>：4.教育局 50.00（回访5）\n", "镇街 <font color=\"info\">红榜</font>：1.环海街道 46.00（回访5）")

		// A unit with one return visit is 样本不足: named, not ranked, on no list.
		x.addDepartment("wsj", "卫健委", 36)
		x.visits("wsj", 1, false, models.Unsatisfied, early)
		daily = x.dailyRanking()
		contains(t, "daily ranking with a small sample", daily, "区级部门 <font color=\"comment\">样本不足</font>：卫健委（回访1）")
		if _, black, _ := strings.Cut(daily, "黑榜"); strings.Contains(strings.SplitN(black, "\n", 2)[0], "卫健委") {
			t.Errorf("a one-ticket unit is on the black list:\n%s", daily)
		}
		contains(t, "排名 with a small sample", x.say("zhoujiu", "排名").only(), "区级部门（4个单位参与排名）", "样本不足：卫健委（回访1）")
		contains(t, "进度 卫健委", x.say("zhoujiu", "进度 卫健委").only(), "样本不足（有效回访1件，不足5件），不排名")

		// 排名 今日 says it covers today only.
		contains(t, "排名 今日", x.say("zhoujiu", "排名 今日").only(), "【三率排名】2026年11月20日当日\n暂无有效回访，无法排名。")
	})
}
