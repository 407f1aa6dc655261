package demo

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/orgimport"
	"yanzhen/tickets"
)

// orgYAML is the demo district in the org file format of `yanzhen import org`.
//
//go:embed org.yaml
var orgYAML []byte

// Seeded says what Seed wrote. On a second run over the same database
// nothing is created or updated.
type Seeded struct {
	Org     orgimport.Result
	Tickets *tickets.Summary
	Reports int
	// Practice counts what seedPractice wrote (practice.go).
	Practice int
}

// Seed fills svc's store with the demo district as of now: its units and
// members through the real org import (an upsert), a month of hotline tickets
// written by the tickets package's generator and read back through svc, the
// service's own import (an upsert by number), today's daily reports of
// about half the units where they have none, and once the practice at every
// step (seedPractice). It is idempotent.
func Seed(ctx context.Context, svc *tickets.Service, cfg *config.Config, now time.Time) (Seeded, error) {
	var out Seeded
	store := svc.Store
	file, err := orgimport.ParseYAML(bytes.NewReader(orgYAML))
	if err != nil {
		return out, fmt.Errorf("demo: seed org: %w", err)
	}
	out.Org, err = orgimport.Apply(ctx, store, file, nil)
	if err != nil {
		return out, fmt.Errorf("demo: seed org: %w", err)
	}
	if len(out.Org.Errors) > 0 {
		return out, fmt.Errorf("demo: seed org: %w", out.Org.Errors[0])
	}
	dir, err := store.Directory(ctx)
	if err != nil {
		return out, fmt.Errorf("demo: seed: %w", err)
	}
	if out.Tickets, err = seedTickets(ctx, svc, dir, cfg, now); err != nil {
		return out, err
	}
	if out.Reports, err = seedReports(ctx, store, dir, cfg, now); err != nil {
		return out, err
	}
	out.Practice, err = seedPractice(ctx, store, svc.Calendar, cfg, now)
	return out, err
}

// ticketCount is the size of the demo's ticket ledger, received over the
// ticketDays before the anchor: enough days that last month has return
// visits to rank (排名 上月) on any day of this one.
const (
	ticketCount = 300
	ticketDays  = 45
)

// anchorKey holds the time the demo's tickets were generated as of, so that
// a later run generates the very same export and the import changes nothing.
const anchorKey = "demo.tickets_anchor"

// seedTickets generates a 12345 export of ticketCount tickets received over
// the ticketDays before the anchor, for the units that must report (the units
// that handle tickets; the streets are also the grids of 双派单), and imports it
// through svc.
func seedTickets(ctx context.Context, svc *tickets.Service, dir *models.Directory, cfg *config.Config, now time.Time) (*tickets.Summary, error) {
	anchor, err := ticketAnchor(ctx, svc.Store, now.In(cfg.Location()))
	if err != nil {
		return nil, err
	}
	var units, grids []string
	for _, d := range dir.Departments {
		if d.ReportRequired {
			units = append(units, d.Name)
		}
		if d.Tier == models.TierStreet {
			grids = append(grids, d.Name)
		}
	}
	var export bytes.Buffer
	err = tickets.Generate(&export, tickets.GenOptions{
		N: ticketCount, Departments: units, Grids: grids, Now: anchor, Days: ticketDays, Seed: 12345,
		Calendar: svc.Calendar, Rules: &svc.Rules,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: seed tickets: %w", err)
	}
	sum, err := svc.ImportFile(ctx, &export, tickets.Origin{Route: models.ImportDemo, Actor: "demo", Name: cfg.District.Name + "12345工单明细.xlsx", Quiet: true})
	if err != nil {
		return nil, fmt.Errorf("demo: seed tickets: %w", err)
	}
	if sum.Failed > 0 {
		return sum, fmt.Errorf("demo: seed tickets: %d rows refused, first: %v", sum.Failed, sum.Errors[0])
	}
	return sum, seedNextDay(ctx, svc, anchor)
}

// seedNextDay adds the two tickets of the demo's levels, for the visitor to
// see on the next working day after the anchor: a ticket of 住建局 sent to
// 环海街道 as its grid too (双派单), due at 09:00, and one of 海景社区 that
// reaches the community's 提级 limit (5 working days) at 09:30. Numbers
// from the anchor's date keep the import an upsert.
func seedNextDay(ctx context.Context, svc *tickets.Service, anchor time.Time) error {
	day := anchor.Format("20060102")
	next := svc.Calendar.NextWorkday(anchor)
	at := func(t time.Time, clock string) string { return config.MustClock(clock).On(t).Format(time.DateTime) }
	rows := []map[string]string{
		{"工单编号": day + "90001", "标题": "海景路井盖破损，双派单", "承办单位": "住建局", "属地": "环海街道", "工单类型": "求助",
			"工单状态": "办理中", "受理时间": at(svc.Calendar.PrevWorkday(anchor), "10:00"), "办理时限": at(next, "09:00")},
		{"工单编号": day + "90002", "标题": "海景社区3号楼楼道堆物", "承办单位": "海景社区", "工单类型": "建议",
			"工单状态": "办理中", "受理时间": at(svc.Calendar.AddWorkdays(anchor, -4), "09:30")},
	}
	body, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("demo: seed tickets: %w", err)
	}
	sum, err := svc.ImportJSON(ctx, bytes.NewReader(body), tickets.Origin{Route: models.ImportDemo, Actor: "demo", Quiet: true})
	if err != nil {
		return fmt.Errorf("demo: seed tickets: %w", err)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("demo: seed tickets: %d rows refused, first: %v", sum.Failed, sum.Errors[0])
	}
	return nil
}

// ticketAnchor returns the stored anchor, or stores now (to the minute) as it.
func ticketAnchor(ctx context.Context, store *models.Store, now time.Time) (time.Time, error) {
	kv, err := store.GetKV(ctx, anchorKey)
	switch {
	case err == nil:
		t, err := time.Parse(time.RFC3339, kv.Value)
		if err != nil {
			return time.Time{}, fmt.Errorf("demo: stored %s %q: %w", anchorKey, kv.Value, err)
		}
		return t.In(now.Location()), nil
	case models.ErrorCode(err) != models.ENOTFOUND:
		return time.Time{}, fmt.Errorf("demo: seed tickets: %w", err)
	}
	anchor := now.Truncate(time.Minute)
	if err := store.PutKV(ctx, anchorKey, anchor.Format(time.RFC3339), nil); err != nil {
		return time.Time{}, fmt.Errorf("demo: seed tickets: %w", err)
	}
	return anchor, nil
}

// seedReport is one department's report of the day, as its head or reporter
// would write it in the group.
type seedReport struct {
	dept, by, text string
}

// demoReports are the reports of about half the units that must report; the
// others are left for the visitor and for the 17:30 reminder.
var demoReports = []seedReport{
	{"zjj", "lina", "今日受理工单9件，办结7件，2件涉及物业维修资金使用，正协调街道和物业公司处理。百日攻坚：海景花园3栋外立面整治完工，加装电梯新签约2部。"},
	{"cgj", "liuguoqiang", "今日受理工单12件，办结10件，主要为占道经营和夜间施工噪音。滨江路沿线市容专项整治清理乱堆物料15处。百日攻坚：背街小巷环境提升完成2条。"},
	{"jyj", "yangfan", "今日受理工单5件，全部办结，均为学位咨询和课后服务收费问题，已逐一电话回复。百日攻坚：新增课后托管点1处。"},
	{"mzj", "zhengxiuying", "今日受理工单4件，办结3件；1件为高龄津贴发放延迟，已核实并安排补发。百日攻坚：科创街道社区养老服务驿站完成验收。"},
	{"scjgj", "hejun", "今日受理工单7件，办结6件，主要为预付卡退费和食品安全投诉，1件已立案调查。"},
	{"hhjd", "luoxiaoyan", "今日受理工单11件，办结9件，网格员现场核查6件，双派单件均已签收。百日攻坚：海景社区新划停车位40个。"},
	{"bhsq", "qianli", "今日入户走访18户，收集诉求5件，现场解决3件，2件上报街道协调。"},
}

// seedReports submits demoReports for today where the department has none,
// stamped through the working day and never after now or the report time.
func seedReports(ctx context.Context, store *models.Store, dir *models.Directory, cfg *config.Config, now time.Time) (int, error) {
	now = now.In(cfg.Location())
	day := now.Format(time.DateOnly)
	have, err := store.DailyReports(ctx, day)
	if err != nil {
		return 0, fmt.Errorf("demo: seed reports: %w", err)
	}
	latest := cfg.Schedule.ReportAt.On(now).Add(-10 * time.Minute)
	if now.Before(latest) {
		latest = now
	}
	first := config.MustClock("09:10").On(now)
	step := 47 * time.Minute
	if span := latest.Sub(first); span < step*time.Duration(len(demoReports)) {
		first, step = latest.Add(-3*time.Minute*time.Duration(len(demoReports))), 3*time.Minute
	}
	n := 0
	for i, r := range demoReports {
		dept, by := deptByCode(dir, r.dept), dir.MemberByUserID(r.by)
		if dept == nil || by == nil {
			return n, fmt.Errorf("demo: seed reports: department %s or member %s is missing", r.dept, r.by)
		}
		if _, ok := have[dept.ID]; ok {
			continue
		}
		_, err := store.SubmitReport(ctx, models.ReportSubmission{
			DepartmentID: dept.ID, Day: day, Text: r.text, By: by.UserID, ByName: by.Name,
			At: first.Add(step * time.Duration(i)),
		})
		if err != nil {
			return n, fmt.Errorf("demo: seed report of %s: %w", r.dept, err)
		}
		n++
	}
	return n, nil
}

// deptByCode returns the department with a code, or nil.
func deptByCode(dir *models.Directory, code string) *models.Department {
	for i := range dir.Departments {
		if dir.Departments[i].Code == code {
			return &dir.Departments[i]
		}
	}
	return nil
}
