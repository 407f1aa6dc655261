package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

// The "Done when": a working week of the demo district on a fake
// clock, every scheduled job run at its slots by the scheduler's check
// (never cron, never a real sleep), posts at most rules.group_daily_budget
// messages a day into the group besides replies and the 18:00 report, and
// every overdue ticket still reaches its responsible people at every level
// it reaches, by app message.

// weekStart is the Monday the simulated week starts; it holds the monthly
// report (Tuesday, December 1st) and the weekly one (Friday).
const weekStart = "2026-11-30 07:00"

// newPerDay is how many tickets the 12345 office's export brings each
// morning: the demo ledger's 300 over 30 days.
const newPerDay = 10

// reached is when a ticket was first seen at a level by a scan.
type reached struct {
	number string
	level  config.Step
	dept   uint
	at     time.Time
}

// week is the simulation's state.
type week struct {
	t      *testing.T
	d      *demoAt
	svc    *tickets.Service
	now    *time.Time
	sched  *jobs.Scheduler
	seen   map[string]*reached // number/level → first seen
	units  []string
	grids  []string
	ladder []config.Step
}

// repeatMark is how an overdue item says it is repeated: （第2次提醒）.
var repeatMark = regexp.MustCompile(`第[0-9]+次提醒`)

func TestWorkingWeekOfTheDemoDistrictIsQuiet(t *testing.T) {
	ctx := context.Background()
	now := storetest.At(weekStart)
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, store *models.Store) {
		now = storetest.At(weekStart)
		w := &week{t: t, d: seededAt(t, store, now), now: &now, seen: map[string]*reached{}}
		w.svc = ticketService(t, store, w.d.cfg)
		w.ladder = w.d.cfg.Rules.Escalation
		// No heartbeat timer: a run's lease is renewed by nothing but its end.
		w.d.runner.Sleep = func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() }
		if _, err := History(ctx, w.d.opts); err != nil {
			t.Fatal(err)
		}
		var err error
		if w.sched, err = jobs.NewScheduler(w.d.runner, func() time.Time { return now }); err != nil {
			t.Fatal(err)
		}
		dir, err := store.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dir.Departments {
			if d.ReportRequired {
				w.units = append(w.units, d.Name)
			}
			if d.Tier == models.TierStreet {
				w.grids = append(w.grids, d.Name)
			}
		}
		end := now.AddDate(0, 0, 5) // Saturday 07:00: Friday's nightly digest included
		for day := 0; now.Before(end); now = now.Add(time.Minute) {
			if now.Hour() == 7 && now.Minute() == 30 {
				if day > 0 {
					w.morningImport(ctx, day)
				}
				if _, err := seedReports(ctx, store, dir, w.d.cfg, now); err != nil {
					t.Fatal(err)
				}
				day++
			}
			w.sched.Check(ctx, now)
			if now.Minute()%15 == 0 && jobs.InHours(now, w.d.cfg.Rules) && w.svc.Calendar.IsWorkday(now) {
				w.observe(ctx)
			}
		}
		w.checkDays(ctx)
		w.checkDelivered(ctx, dir)
	})
}

// morningImport is the 12345 office's export of the morning of day: the new
// tickets of the last day, and the tickets the units settled, most of those
// due today and some of those overdue, chosen by a hash of the ticket and the day.
func (w *week) morningImport(ctx context.Context, day int) {
	t, now := w.t, *w.now
	var gen bytes.Buffer
	err := tickets.Generate(&gen, tickets.GenOptions{
		N: newPerDay, Departments: w.units, Grids: w.grids, Now: now, Days: 1, Seed: uint64(20261130 + day),
		Calendar: w.svc.Calendar, Rules: &w.svc.Rules, Format: sheet.CSV,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The generator numbers tickets by receipt date and position, as the
	// ledger's: the day's export gets numbers of its own (W1…, W2…).
	records, err := csv.NewReader(&gen).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records[1:] {
		rec[0] = fmt.Sprintf("W%d%s", day, rec[0])
	}
	var export bytes.Buffer
	if err := csv.NewWriter(&export).WriteAll(records); err != nil {
		t.Fatal(err)
	}
	sum, err := w.svc.ImportFile(ctx, &export, tickets.Origin{Route: models.ImportCLI, Actor: "hotline", Name: "12345工单明细.csv"})
	if err != nil || sum.Created != newPerDay {
		t.Fatalf("day %d's new tickets: %v %v", day, sum, err)
	}
	open, err := w.d.store.OpenTicketsDue(ctx, time.Time{}, now.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	start, _ := dayBoundsOf(now)
	var settled []map[string]string
	for _, tk := range open {
		h := fnv.New32a()
		fmt.Fprintf(h, "%s/%d", tk.Number, day)
		share := uint32(70) // due today: most are done in time
		if tk.Deadline.Before(start) {
			share = 30 // overdue: some are settled each day
		}
		if h.Sum32()%100 < share {
			settled = append(settled, map[string]string{"工单编号": tk.Number, "工单状态": "已办结", "办结时间": now.Add(-time.Hour).Format("2006-01-02 15:04:05")})
		}
	}
	body, err := json.Marshal(settled)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := w.svc.ImportJSON(ctx, bytes.NewReader(body), tickets.Origin{Route: models.ImportAPI, Actor: "hotline"}); err != nil || sum.Updated != len(settled) {
		t.Fatalf("day %d's settled tickets: %v %v", day, sum, err)
	}
}

// observe records the levels the open tickets reached at a scan's time.
func (w *week) observe(ctx context.Context) {
	now := *w.now
	open, err := w.d.store.OpenTicketsDue(ctx, time.Time{}, now.AddDate(0, 1, 0))
	if err != nil {
		w.t.Fatal(err)
	}
	for _, tk := range open {
		if tk.DepartmentID == nil {
			continue
		}
		level := jobs.Reached(w.svc.Calendar, w.ladder, *tk.Deadline, now)
		if level < 0 {
			continue
		}
		key := tk.Number + "/" + string(w.ladder[level].Level)
		if w.seen[key] == nil {
			w.seen[key] = &reached{number: tk.Number, level: w.ladder[level], dept: *tk.DepartmentID, at: now}
		}
	}
}

// dayBoundsOf returns the start of t's day and of the next, in Shanghai.
func dayBoundsOf(t time.Time) (time.Time, time.Time) {
	y, m, d := t.In(storetest.Shanghai).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, storetest.Shanghai)
	return start, start.AddDate(0, 0, 1)
}

// checkDays counts, per day and work group, the group posts below the daily
// report, and fails a group's day over the budget; the district's group
// gets one morning roll-up a day, the street's at most one.
func (w *week) checkDays(ctx context.Context) {
	t := w.t
	var rows []models.OutboxMessage
	if err := w.d.store.DB(ctx).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	type tally struct {
		group, digests, rollups, others, reports int
		kinds                                    map[string]int
	}
	days := map[string]map[string]*tally{} // day → group → tally
	app, repeats := map[string]int{}, map[string]int{}
	for _, r := range rows {
		day := r.CreatedAt.In(storetest.Shanghai).Format("2006-01-02")
		if days[day] == nil {
			days[day] = map[string]*tally{}
		}
		if r.Channel == "app" {
			app[day]++
			repeats[day] += strings.Count(r.Body, "次提醒）")
			continue
		}
		if r.Channel != "robot" {
			continue
		}
		c := days[day][r.Group]
		if c == nil {
			c = &tally{kinds: map[string]int{}}
			days[day][r.Group] = c
		}
		key := ""
		if r.DedupeKey != nil {
			key = *r.DedupeKey
		}
		switch {
		case r.Priority >= int(msg.Report):
			c.reports++
		default:
			c.group++
			if repeatMark.MatchString(r.Body) { // a repeat's mark, not the ladder's 第一次提醒 of a unit
				t.Errorf("a repeat was posted to the group: %s", r.Body)
			}
			switch kind := strings.SplitN(key, "/", 2)[0]; {
			case strings.HasPrefix(key, "overdue/"):
				c.digests++
			case kind == "morning-rollup":
				c.rollups++
			default:
				c.others++
				c.kinds[kind]++
			}
		}
	}
	names := make([]string, 0, len(days))
	for d := range days {
		names = append(names, d)
	}
	sort.Strings(names)
	budget := w.d.cfg.Rules.GroupDailyBudget
	for _, day := range names {
		if day < storetest.At(weekStart).Format("2006-01-02") {
			continue // the history of the previous working day
		}
		start, _ := time.ParseInLocation("2006-01-02", day, storetest.Shanghai)
		t.Logf("%s %s: app messages %3d (repeats %d)", day, start.Weekday().String()[:3], app[day], repeats[day])
		for _, group := range []string{"qu", "hh"} {
			c := days[day][group]
			if c == nil {
				c = &tally{kinds: map[string]int{}}
			}
			counted, err := w.d.store.GroupPosts(ctx, group, start, start.AddDate(0, 0, 1), int(msg.Report))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("  %s: group %2d (digests %d, roll-up %d, other %v), daily report %d", group, c.group, c.digests, c.rollups, c.kinds, c.reports)
			if c.group > budget {
				t.Errorf("%s %s: %d group messages besides replies and the daily report, over %d", day, group, c.group, budget)
			}
			if (group == "qu" && c.rollups != 1) || c.rollups > 1 {
				t.Errorf("%s %s: %d morning roll-ups", day, group, c.rollups)
			}
			if counted != c.group {
				t.Errorf("%s %s: the store counts %d group posts, the outbox holds %d", day, group, counted, c.group)
			}
			if c.reports == 0 {
				t.Errorf("%s %s: no daily report", day, group)
			}
		}
	}
}

var (
	levelHeading = regexp.MustCompile(`^\*\*(预警|超期|通报)\*\* \d+项$`)
	ticketLine   = regexp.MustCompile(`^· 工单(\S+) `)
	partKey      = regexp.MustCompile(`/\d+$`)
)

// delivery is one app message's ticket at a level, to its recipients.
type delivery struct {
	to []string
	at time.Time
}

// checkDelivered fails unless every ticket seen at a level was listed at that
// level, in the scan that saw it first, in an app message to every one of
// the people the ladder names for it.
func (w *week) checkDelivered(ctx context.Context, dir *models.Directory) {
	t := w.t
	var rows []models.OutboxMessage
	if err := w.d.store.DB(ctx).Where("channel = ? AND created_at >= ?", "app", storetest.At(weekStart)).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	// Join the parts of each message, then read its items by level.
	type whole struct {
		to   string
		at   time.Time
		body string
	}
	var msgs []*whole
	byKey := map[string]*whole{}
	for _, r := range rows {
		if r.DedupeKey == nil || !strings.HasPrefix(*r.DedupeKey, "overdue/") {
			continue
		}
		base := partKey.ReplaceAllString(*r.DedupeKey, "") // part 2 of key is key/2
		m := byKey[base]
		if m == nil {
			m = &whole{to: r.To, at: r.CreatedAt}
			byKey[base] = m
			msgs = append(msgs, m)
		}
		m.body += "\n" + r.Body
	}
	got := map[string][]delivery{}
	for _, m := range msgs {
		level := ""
		if strings.HasPrefix(strings.TrimPrefix(m.body, "\n"), "**【催办】") {
			level = "催办"
		}
		for _, line := range strings.Split(m.body, "\n") {
			if h := levelHeading.FindStringSubmatch(line); h != nil {
				level = h[1]
			}
			if it := ticketLine.FindStringSubmatch(line); it != nil && level != "" {
				got[it[1]+"/"+level] = append(got[it[1]+"/"+level], delivery{to: strings.Split(m.to, "|"), at: m.at})
			}
		}
	}
	leaders := userids(dir.WithRole(models.RoleLeader))
	levels := map[config.Level]int{}
	for _, r := range w.seen {
		var want []string
		switch r.level.Notify {
		case config.NotifyHandler:
			want = userids(dir.MembersOf(r.dept, models.RoleHandler))
			if len(want) == 0 {
				want = userids(dir.Responsible(r.dept))
			}
		case config.NotifyLeader:
			want = leaders
		default:
			want = userids(dir.Responsible(r.dept))
		}
		levels[r.level.Level]++
		ok := false
		for _, d := range got[r.number+"/"+r.level.Name] {
			ok = ok || d.at.Equal(r.at) && containsAll(d.to, want)
		}
		if !ok {
			t.Errorf("工单%s reached %s at %s, but %v were not told then: %+v", r.number, r.level.Name, r.at.Format("01-02 15:04"), want, got[r.number+"/"+r.level.Name])
		}
	}
	t.Logf("tickets seen at each level and told to their people: %v", levels)
	if levels[config.LevelWarn] == 0 || levels[config.LevelAlert] == 0 || levels[config.LevelUrge] == 0 || levels[config.LevelBlacklist] == 0 {
		t.Errorf("the week does not cross every level: %v", levels)
	}
}

func userids(ms []*models.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return len(want) > 0
}
