package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yanzhen/config"
	"yanzhen/models"
)

// Remind is the reminder before the report time: the departments that must
// report and have not, each with who answers for it.
type Remind struct {
	Day models.Period
	// At is the reminder's time, Deadline the report time (17:30, 18:00).
	At, Deadline config.Clock
	Missing      []Missing
}

// Missing is a department whose report is missing and who answers for it.
type Missing struct {
	Department  models.Department
	Responsible []*models.Member
}

// Remind finds the departments that must report on day and have not.
func (b *Builder) Remind(ctx context.Context, day time.Time) (*Remind, error) {
	r := &Remind{Day: models.DayOf(day, b.loc), At: b.cfg.Schedule.RemindAt, Deadline: b.cfg.Schedule.ReportAt}
	dir, err := b.store.Directory(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: remind: %w", err)
	}
	reports, err := b.store.DailyReports(ctx, DayKey(r.Day.Start, b.loc))
	if err != nil {
		return nil, fmt.Errorf("report: remind: %w", err)
	}
	for _, d := range models.Unreported(dir.Departments, reports) {
		r.Missing = append(r.Missing, Missing{Department: d, Responsible: dir.Responsible(d.ID)})
	}
	return r, nil
}

// Messages returns nothing when every department reported; else one group
// message (more when the list is long) @-mentioning who answers for each
// missing department, and an app message to them for each department.
func (r *Remind) Messages() []models.Outgoing {
	if len(r.Missing) == 0 {
		return nil
	}
	day := DayKey(r.Day.Start, r.Day.Start.Location())
	head := "**【日报提醒】**\n截至" + r.At.String() + "，以下 " + warning(itoa(len(r.Missing))) +
		" 个单位尚未报送今日（" + monthDayCN(r.Day.Start) + "）工作日报，请于" + r.Deadline.String() + "前在群内报送："
	lines := make([]string, len(r.Missing))
	for i, m := range r.Missing {
		who, _ := mentions(m.Responsible)
		if who == "" {
			who = comment("（未登记负责人）")
		}
		lines[i] = m.Department.Name + " " + who
	}
	sections := append([]string{head}, lines...)
	msgs := groupMessages(packLines(sections, GroupLimit, continued("日报提醒")), "remind/"+day)
	for _, m := range r.Missing {
		_, ids := mentions(m.Responsible)
		body := "【日报提醒】" + m.Department.Name + "今日（" + monthDayCN(r.Day.Start) + "）工作日报尚未报送，请于" +
			r.Deadline.String() + "前在工作群内发送“日报 内容”报送。"
		msgs = append(msgs, appMessages(ids, models.KindText, []string{body}, fmt.Sprintf("remind/%s/app/%d", day, m.Department.ID))...)
	}
	return msgs
}

// packLines is pack for sections that are single lines: a newline apart, not a blank line.
func packLines(lines []string, limit int, cont func(i, n int) string) []string {
	return pack([]string{strings.Join(lines, "\n")}, limit, cont)
}
