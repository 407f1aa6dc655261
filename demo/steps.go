package demo

import (
	"context"
	"fmt"
	"time"

	"yanzhen/models"
)

// Steps are what a visitor should try first, drawn from the data as it stands.
type Steps struct {
	// Reporter is the head of the first unit that has not reported today.
	Reporter *models.Member
	// ReporterUnit is that unit's name.
	ReporterUnit string
	// Leader is the main leader.
	Leader *models.Member
	// Target is the department of the example dispatch, TargetHead its head.
	Target     string
	TargetHead *models.Member
}

// FirstSteps picks the members of the first things to try. A field is nil
// when the data has no such member (an org edited by hand).
func FirstSteps(ctx context.Context, store *models.Store, now time.Time) (Steps, error) {
	var st Steps
	dir, err := store.Directory(ctx)
	if err != nil {
		return st, fmt.Errorf("demo: first steps: %w", err)
	}
	reports, err := store.DailyReports(ctx, now.In(store.Location()).Format(time.DateOnly))
	if err != nil {
		return st, fmt.Errorf("demo: first steps: %w", err)
	}
	for _, d := range models.Unreported(dir.Departments, reports) {
		if heads := dir.MembersOf(d.ID, models.RoleHead); len(heads) > 0 {
			st.Reporter, st.ReporterUnit = heads[0], d.Name
			break
		}
	}
	for _, m := range dir.WithRole(models.RoleLeader) {
		if st.Leader == nil || m.Main {
			st.Leader = m
		}
	}
	if d := deptByCode(dir, "zjj"); d != nil {
		st.Target = d.Name
		if heads := dir.MembersOf(d.ID, models.RoleHead); len(heads) > 0 {
			st.TargetHead = heads[0]
		}
	}
	return st, nil
}

// Tips returns the first things to try, in order, as the console and the
// page show them.
func (st Steps) Tips() []string {
	var out []string
	if st.Reporter != nil {
		out = append(out,
			fmt.Sprintf("以「%s（%s）」身份发送：日报 今日受理工单6件，办结5件", st.Reporter.Name, st.ReporterUnit),
			fmt.Sprintf("点右侧「日报汇总」发布今日日报，在群里找到%s一节（每天只发布一次，之后可发送“预览日报”查看）", st.ReporterUnit))
	}
	if st.Leader != nil && st.Target != "" {
		tip := fmt.Sprintf("以「%s（区领导）」身份发送：调度 @%s 明天下班前报送整改方案", st.Leader.Name, st.Target)
		if st.TargetHead != nil {
			tip += fmt.Sprintf("，再点左侧「%s」看其收到的应用消息", st.TargetHead.Name)
		}
		out = append(out, tip)
	}
	return append(out, fmt.Sprintf("以「%s（陌生人）」身份随便说一句，看未登记提示", StrangerName))
}
