package report

import (
	"context"
	"fmt"
	"time"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// Remind is the reminder before the report time: the departments that must
// report and have not, each with who reports for it (its heads and its
// reporters).
type Remind struct {
	// Group is the code of the work group reminded.
	Group string
	Day   models.Period
	// At is the reminder's time, Deadline the report time (17:30, 18:00).
	At, Deadline config.Clock
	Missing      []Missing
}

// Missing is a department whose report is missing, who reports for it (its
// heads and its reporters, models.Directory.ReportingFor), and its figures as
// the report will carry them.
type Missing struct {
	Department models.Department
	Reporting  []*models.Member
	Unit       Unit
}

// Remind finds the units of the builder's group (For) that must report on
// day and have not, at the group's own times, with their figures as they
// stand at day (the reminder's time).
func (b *Builder) Remind(ctx context.Context, day time.Time) (*Remind, error) {
	a, err := b.area(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: remind: %w", err)
	}
	s := Schedule(b.cfg.Schedule, a.Group)
	r := &Remind{Group: a.Group.Code, Day: models.DayOf(day, b.loc), At: s.RemindAt, Deadline: s.ReportAt}
	d, err := b.Daily(ctx, day, day)
	if err != nil {
		return nil, fmt.Errorf("report: remind: %w", err)
	}
	for _, u := range d.Units {
		if u.Missing() {
			r.Missing = append(r.Missing, Missing{Department: u.Department, Reporting: a.Dir.ReportingFor(u.Department.ID), Unit: u})
		}
	}
	return r, nil
}

// Messages returns nothing when every department reported; else one group
// message (more when the list is long) @-mentioning who reports for each
// missing department, and a notice card to them for each department with
// the figures the report will carry for it and how to report.
func (r *Remind) Messages() []msg.Message {
	if len(r.Missing) == 0 {
		return nil
	}
	day := DayKey(r.Day.Start, r.Day.Start.Location())
	lines := []msg.Line{
		msg.L(msg.Strong("【日报提醒】")),
		msg.L(msg.Text("截至"+r.At.String()+"，以下 "), msg.Bad(itoa(len(r.Missing))),
			msg.Text(" 个单位尚未报送今日（"+monthDayCN(r.Day.Start)+"）工作日报，请于"+r.Deadline.String()+"前在群内报送：")),
	}
	for _, m := range r.Missing {
		who, _ := mentions(m.Reporting)
		if len(who) == 0 {
			who = []msg.Span{msg.Muted("（未登记负责人）")}
		}
		lines = append(lines, msg.L(append([]msg.Span{msg.Text(m.Department.Name + " ")}, who...)...))
	}
	msgs := []msg.Message{toGroup(r.Group, "日报提醒", groupKey("remind", r.Group, day), msg.S(lines...))}
	for _, m := range r.Missing {
		_, ids := mentions(m.Reporting)
		const title = "【日报提醒】"
		body := title + m.Department.Name + "今日（" + monthDayCN(r.Day.Start) + "）工作日报尚未报送，请于" +
			r.Deadline.String() + "前在工作群内发送“日报 内容”报送。"
		figures := unitLine(msg.Text(r.Deadline.String()+"日报将列出本单位："), &m.Unit)
		sent := toMembers(ids, title, fmt.Sprintf("%s/app/%d", groupKey("remind", r.Group, day), m.Department.ID), msg.S(text(body), figures))
		for i := range sent {
			f := m.Unit.Figures
			sent[i].Card = &msg.Card{
				Emphasis: msg.Emphasis{Value: r.Deadline.String() + "前", Label: "日报报送时限"},
				Fields: []msg.Field{{Label: "受理", Value: itoa(f.Received)}, {Label: "办结", Value: itoa(f.Resolved)},
					{Label: "在办", Value: itoa(f.InProgress)}, {Label: "超期", Value: itoa(f.Overdue)}, {Label: "临期", Value: itoa(f.DueSoon)}},
			}
		}
		msgs = append(msgs, sent...)
	}
	return msgs
}
