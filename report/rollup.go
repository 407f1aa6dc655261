package report

import (
	"time"

	"yanzhen/calendar"
	"yanzhen/msg"
)

// Rollup is the morning roll-up of a working day: the one time a day the
// group hears of the items that stand open at the levels it hears of.
type Rollup struct {
	// Group is the code of the work group it goes to.
	Group string
	// Now is when it is made; it keys the message by its day.
	Now time.Time
	// Late marks a roll-up made up after its time (补发).
	Late bool
	// Levels are the levels with open items, the most severe first, each with
	// its units in the configured order.
	Levels []LevelUnits
}

// Message returns the roll-up for the group (msg.Notice): per level, the
// units with open items, each with its count and its most overdue item, a
// unit whose crossing was folded into the roll-up marked 新增. It returns
// false when nothing stands open: the group is told nothing.
func (r *Rollup) Message(cal *calendar.Calendar) (msg.Message, bool) {
	if len(r.Levels) == 0 {
		return msg.Message{}, false
	}
	now := r.Now.In(cal.Location())
	title := []msg.Span{msg.Strong("【超期汇总】" + monthDayCN(now) + " " + weekdays[now.Weekday()])}
	if r.Late {
		title = append(title, msg.Text(" "), msg.Bad("补发"))
	}
	units, items := Totals(r.Levels)
	lines := []msg.Line{
		msg.L(title...),
		msg.L(msg.Text("截至"+now.Format("15:04")+"，"+itoa(units)+"个单位尚有超期事项"), msg.Bad(itoa(items)), msg.Text("项：")),
	}
	for _, lv := range r.Levels {
		n := 0
		for _, u := range lv.Units {
			n += u.Count
		}
		lines = append(lines, levelHeading(lv.Step, itoa(len(lv.Units))+"个单位 "+itoa(n)+"项"))
		for _, u := range lv.Units {
			line := []msg.Span{msg.Strong(u.Name), msg.Text(" " + itoa(u.Count) + "项")}
			if u.New {
				line = append(line, msg.Text("（新增）"))
			}
			if len(u.Items) > 0 {
				it := u.Items[0]
				line = append(line, msg.Muted("，最早 "+it.Label+"｜"+Lateness(cal, it.Deadline, now)))
			}
			lines = append(lines, msg.L(line...))
		}
	}
	lines = append(lines, msg.L(msg.Muted("请各单位抓紧办理。新增超期另行提醒，未办结事项每个工作日汇总一次。")))
	m := toGroup(r.Group, "超期汇总", groupKey("morning-rollup", r.Group, DayKey(now, cal.Location())), msg.S(lines...))
	m.Priority = msg.Notice
	return m, true
}
