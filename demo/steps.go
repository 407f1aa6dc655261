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
	// StreetGroup is the second work group, a street's; Community is the
	// head of its first unit that has not reported, CommunityUnit that
	// unit, Street the street the group's units are under.
	StreetGroup, CommunityUnit, Street string
	Community                          *models.Member
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
	set, err := store.GroupSet(ctx)
	if err != nil {
		return st, fmt.Errorf("demo: first steps: %w", err)
	}
	if len(set.Groups) > 1 {
		g := &set.Groups[1]
		st.StreetGroup = g.Name
		for _, d := range models.Unreported(set.Scope(g).Departments(dir.Departments), reports) {
			if heads := dir.MembersOf(d.ID, models.RoleHead); len(heads) > 0 {
				st.Community, st.CommunityUnit = heads[0], d.Name
				if d.ParentID != nil && dir.Department(*d.ParentID) != nil {
					st.Street = dir.Department(*d.ParentID).Name
				}
				break
			}
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
	if st.Community != nil && st.Street != "" {
		out = append(out,
			fmt.Sprintf("点上方「%s」切换群聊，以「%s（%s）」身份发送：日报 今日走访居民12户，化解邻里纠纷2起；再点「日报汇总」发布街道的日报（%s的日报时间早于区里），随后切回区群点「日报汇总」，%s一行含其社区的数字和报送情况",
				st.StreetGroup, st.Community.Name, st.CommunityUnit, st.Street, st.Street),
			"在右侧「模拟时间」填明天 10:00，依次点「提级」和「超期扫描」：社区超过办理时限的工单提级至街道、社区和街道负责人各收到通知；双派单工单同时提醒承办部门和属地街道")
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
