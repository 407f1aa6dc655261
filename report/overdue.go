package report

import (
	"fmt"
	"sort"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// Item is one subject of an overdue scan, a ticket or a dispatch, at one level
// of the escalation ladder.
type Item struct {
	// Label names the subject: 工单2024112700123, 调度D12.
	Label string
	// Title is the ticket's title or the dispatch's instruction.
	Title    string
	Deadline time.Time
	// Level is the index of Step in the ladder: higher is more severe.
	Level int
	Step  config.Step
	// Count is how many times this level has been sent, this time included:
	// 1 for the first sending, 2 for the first repeat (第2次提醒) ….
	Count int
	// Also are userids told at the leader level besides the leaders: the
	// dispatch's issuer.
	Also []string
}

// ScanUnit is one department's share of a scan: its items and who hears of them.
type ScanUnit struct {
	Key  uint   // the department's ID; it keys the unit's messages
	Name string // the department's name
	// Heads are @-mentioned in the group digest; Handlers get the warnings.
	Heads, Handlers []*models.Member
	Items           []Item
}

// Scan is what one overdue scan sends, per department in the configured order.
type Scan struct {
	// Slot names the run; it keys the scan's messages.
	Slot    string
	Now     time.Time
	Units   []ScanUnit
	Leaders []*models.Member
}

// Messages says what the scan found. Per department: items whose level
// notifies the head, the leaders or the group go into one group digest
// @-mentioning its head; items that notify the handler go to its handlers by
// app message. Items at a leader level also go, for all departments
// together, to the leaders (and a dispatch's issuer) by app message.
func (s *Scan) Messages(cal *calendar.Calendar) []msg.Message {
	var out []msg.Message
	var urged []ScanUnit
	leaders := map[string]bool{}
	var to []string
	addTo := func(id string) {
		if !leaders[id] {
			leaders[id] = true
			to = append(to, id)
		}
	}
	for _, m := range s.Leaders {
		addTo(m.UserID)
	}
	for _, u := range s.Units {
		sortItems(u.Items)
		var group, warn, urge []Item
		for _, it := range u.Items {
			switch it.Step.Notify {
			case config.NotifyHandler:
				warn = append(warn, it)
			case config.NotifyLeader:
				urge = append(urge, it)
				group = append(group, it)
				for _, id := range it.Also {
					addTo(id)
				}
			default:
				group = append(group, it)
			}
		}
		key := fmt.Sprintf("overdue/%s/%d", s.Slot, u.Key)
		if len(group) > 0 {
			out = append(out, toGroup("", key+"/group", s.groupDigest(u, group, cal)))
		}
		if len(warn) > 0 {
			recipients := u.Handlers
			if len(recipients) == 0 {
				recipients = u.Heads
			}
			_, ids := mentions(recipients)
			lines := append([]msg.Line{text("【到期预警】" + u.Name + "以下事项即将到期，请抓紧办理：")}, s.itemLines(warn, cal)...)
			out = append(out, toMembers(ids, "", key+"/warn", msg.S(lines...))...)
		}
		if len(urge) > 0 {
			urged = append(urged, ScanUnit{Name: u.Name, Items: urge})
		}
	}
	if len(urged) > 0 {
		lines := []msg.Line{msg.L(msg.Strong("【催办】以下事项超期未办结，请督促"))}
		for _, u := range urged {
			lines = append(lines, msg.L(msg.Strong(u.Name), msg.Text(" "+itoa(len(u.Items))+"项")))
			lines = append(lines, s.itemLines(u.Items, cal)...)
		}
		out = append(out, toMembers(to, "催办", "overdue/"+s.Slot+"/leaders", msg.S(lines...))...)
	}
	return out
}

// sortItems orders items the most severe first, then by deadline.
func sortItems(items []Item) {
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Level != items[j].Level {
			return items[i].Level > items[j].Level
		}
		return items[i].Deadline.Before(items[j].Deadline)
	})
}

// groupDigest is one department's digest for the group, by level.
func (s *Scan) groupDigest(u ScanUnit, items []Item, cal *calendar.Calendar) msg.Section {
	title := "【超期督办】"
	if items[0].Step.Level == config.LevelWarn {
		title = "【到期预警】"
	}
	lines := []msg.Line{msg.L(msg.Strong(title + u.Name))}
	who, _ := mentions(u.Heads)
	if len(who) > 0 {
		who = append(who, msg.Text(" "))
	}
	lines = append(lines, msg.L(append(who, msg.Text("以下事项请抓紧办理并及时反馈："))...))
	for start := 0; start < len(items); {
		end := start
		for end < len(items) && items[end].Level == items[start].Level {
			end++
		}
		step := items[start].Step
		name := msg.Strong(step.Name)
		if step.Level != config.LevelWarn {
			name = msg.Bad(step.Name)
		}
		head := []msg.Span{name, msg.Text(" " + itoa(end-start) + "项")}
		if step.Notify == config.NotifyLeader {
			head = append(head, msg.Text("（已报区领导）"))
		}
		lines = append(lines, msg.L(head...))
		lines = append(lines, s.itemLines(items[start:end], cal)...)
		start = end
	}
	return msg.S(lines...)
}

// itemLines are items one a line, at most listCap of them, then "……等N项".
func (s *Scan) itemLines(items []Item, cal *calendar.Calendar) []msg.Line {
	return capped(items, func(it Item) msg.Line { return text(s.itemLine(it, cal)) }, "项")
}

// itemLine renders one item: · 工单2024112700123 路灯不亮｜超期2小时（第2次提醒）.
func (s *Scan) itemLine(it Item, cal *calendar.Calendar) string {
	line := "· " + it.Label + " " + listTitle(it.Title) + "｜" + Lateness(cal, it.Deadline, s.Now)
	if it.Count > 1 {
		line += "（第" + itoa(it.Count) + "次提醒）"
	}
	return line
}
