package demo

import (
	"context"
	"fmt"
	"strconv"

	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/report"
)

// The demo's work groups: the district's and 环海街道's. The page switches
// between them; what is said goes to the chat of the group shown, and the
// jobs run for it.

// groupView is a work group as the page's switcher shows it: its code, its
// name, its chat (the page shows the events of that chat) and its jobs at
// its own times.
type groupView struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Chat string `json:"chat"`
	Jobs []job  `json:"jobs"`
}

// chatOf returns the chat of the work group with a code ("" the first).
func (s *Server) chatOf(ctx context.Context, group string) (string, error) {
	set, err := s.store.GroupSet(ctx)
	if err != nil {
		return "", err
	}
	g := set.Of(group)
	switch {
	case g == nil:
		return "", badRequest("没有工作群 %s", group)
	case g.ChatID == "":
		return ChatID, nil
	}
	return g.ChatID, nil
}

// job is one job of the page's buttons.
type job struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	When  string `json:"when"`
}

// jobList lists the jobs of DESIGN §4 with their schedule in this config, at
// a work group's own times.
func (s *Server) jobList(g *models.Group) []job {
	sc := report.Schedule(s.cfg.Schedule, g)
	weekday := []string{"", "一", "二", "三", "四", "五", "六", "日"}[sc.WeeklyDay]
	every := "每 " + strconv.Itoa(int(sc.OverdueEvery.D().Minutes())) + " 分钟"
	return []job{
		{jobs.Remind, "未报提醒", "工作日 " + sc.RemindAt.String()},
		{jobs.DailyReport, "日报汇总", "工作日 " + sc.ReportAt.String()},
		{jobs.MorningRollup, "超期汇总", "工作日 " + sc.RollupAt.String()},
		{jobs.OverdueScan, "超期扫描", every},
		{jobs.Raise, "提级", every},
		{jobs.NightlyDigest, "夜间摘要", "每日 " + sc.DigestAt.String()},
		{jobs.WeeklyReport, "周报", "每周" + weekday + " " + sc.WeeklyAt.String()},
		{jobs.MonthlyReport, "月度通报", fmt.Sprintf("每月 %d 日 %s", sc.MonthlyDay, sc.MonthlyAt)},
	}
}
