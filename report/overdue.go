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

// ScanUnit is one unit's share of a scan: the items it is told of now (a
// level reached, or its repeat) and who hears of them.
type ScanUnit struct {
	Key  uint   // the department's ID (0: members addressed without one); it keys the unit's messages
	Name string // the department's name
	// Heads hear of the items at the head and group levels, and of the
	// handler level when the unit has no handlers; Handlers hear of the
	// handler level.
	Heads, Handlers []*models.Member
	Items           []Item
}

// UnitLevel is a unit's open items at one level of the ladder, as the group
// hears of them.
type UnitLevel struct {
	Key  uint   // the department's ID (0: members addressed without one)
	Name string // the department's name
	// Heads are @-mentioned when the group is told the unit crossed the level.
	Heads []*models.Member
	// Count is how many open items the unit has at the level.
	Count int
	// Items are the unit's most overdue open items at the level, the most
	// overdue first: as many as a digest shows (Add keeps them).
	Items []Item
	// New marks, in a morning roll-up, a unit whose crossing the group was
	// not told of when it happened: its daily budget was spent.
	New bool
}

// Add counts one more open item of the unit at the level and keeps it
// among Items when it is one of the most overdue; of items due at the same
// time, the first added comes first.
func (u *UnitLevel) Add(it Item) {
	u.Count++
	i := len(u.Items)
	for i > 0 && it.Deadline.Before(u.Items[i-1].Deadline) {
		i--
	}
	if i == digestWorst {
		return
	}
	if len(u.Items) < digestWorst {
		u.Items = append(u.Items, Item{})
	}
	copy(u.Items[i+1:], u.Items[i:])
	u.Items[i] = it
}

// LevelUnits is one level of the ladder with units that have open items at it.
type LevelUnits struct {
	Step  config.Step
	Units []UnitLevel
}

// Totals counts the distinct units of levels and their open items.
func Totals(levels []LevelUnits) (units, items int) {
	seen := map[uint]bool{}
	for _, lv := range levels {
		for _, u := range lv.Units {
			seen[u.Key] = true
			items += u.Count
		}
	}
	return len(seen), items
}

// Scan is what one overdue scan sends: to the group, one digest of the
// units that newly crossed a level the group hears of; to the people
// responsible, the full lists of the items reached or repeated now.
type Scan struct {
	// Slot names the run; it keys the scan's messages.
	Slot string
	Now  time.Time
	// Digests are the groups' digests: per work group, the units that newly
	// crossed each level. None: nothing crossed, or the digests were folded
	// into the morning roll-up.
	Digests []Digest
	// Units are the units with items to tell their people of, in the
	// configured order.
	Units   []ScanUnit
	Leaders []*models.Member

	// urged are the lines of the 催办 so far, also the issuers it goes to
	// besides the leaders.
	urged []msg.Line
	also  []string
}

// Digest is one work group's share of a scan: its units that newly crossed
// each level, the most severe level first.
type Digest struct {
	Group   string
	Crossed []LevelUnits
}

// digestWorst is how many of a unit's items a digest shows; the items a
// digest shows in all are capped at listCap.
const digestWorst = 2

// Messages says what the scan found. To the group (msg.Bulk), at most one
// digest: per level, the units that newly crossed it, each with its count of
// open items at the level and its most overdue items. By app message
// (msg.Notice), per unit, every item reached or repeated now: the handler
// level to its handlers (else its heads), the head and group levels to its
// heads; the leader level, for all units together, to the leaders and the
// issuers of the dispatches concerned.
//
// A scan too large to hold all its units' items at once makes the same
// messages in turn: DigestMessages, then UnitMessages of each unit in
// order, then LeaderMessages.
func (s *Scan) Messages(cal *calendar.Calendar) []msg.Message {
	s.urged, s.also = nil, nil
	out := s.DigestMessages(cal)
	for _, u := range s.Units {
		out = append(out, s.UnitMessages(u, cal)...)
	}
	return append(out, s.LeaderMessages()...)
}

// DigestMessages returns the groups' digests of the scan.
func (s *Scan) DigestMessages(cal *calendar.Calendar) []msg.Message {
	var out []msg.Message
	for _, d := range s.Digests {
		if len(d.Crossed) == 0 {
			continue
		}
		key := "overdue/" + s.Slot + "/group"
		if d.Group != "" {
			key += "/" + d.Group
		}
		m := toGroup(d.Group, "超期督办", key, s.digest(d.Crossed, cal))
		m.Priority = msg.Bulk
		out = append(out, m)
	}
	return out
}

// UnitMessages returns the app messages of one unit's items, and keeps
// those at the leader level for LeaderMessages.
func (s *Scan) UnitMessages(u ScanUnit, cal *calendar.Calendar) []msg.Message {
	sortItems(u.Items)
	var heads, warn, urge []Item
	for _, it := range u.Items {
		switch it.Step.Notify {
		case config.NotifyHandler:
			warn = append(warn, it)
		case config.NotifyLeader:
			urge = append(urge, it)
			s.also = append(s.also, it.Also...)
		default:
			heads = append(heads, it)
		}
	}
	var out []msg.Message
	key := fmt.Sprintf("overdue/%s/%d", s.Slot, u.Key)
	if len(warn) > 0 {
		recipients := u.Handlers
		if len(recipients) == 0 {
			recipients = u.Heads
		}
		_, ids := mentions(recipients)
		out = append(out, toMembers(ids, "到期预警", key+"/warn", s.list("【到期预警】"+u.Name, "以下事项即将到期，请抓紧办理：", warn, cal))...)
	}
	if len(heads) > 0 {
		_, ids := mentions(u.Heads)
		out = append(out, toMembers(ids, "超期督办", key+"/heads", s.list("【超期督办】"+u.Name, "以下事项请抓紧办理并及时反馈：", heads, cal))...)
	}
	if len(urge) > 0 {
		s.urged = append(s.urged, msg.L(msg.Strong(u.Name), msg.Text(" "+itoa(len(urge))+"项")))
		s.urged = append(s.urged, s.fullLines(urge, cal)...)
	}
	return out
}

// LeaderMessages returns the 催办 of the items at the leader level of every
// unit UnitMessages was given, to the leaders and the issuers concerned.
func (s *Scan) LeaderMessages() []msg.Message {
	if len(s.urged) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var to []string
	for _, m := range s.Leaders {
		if !seen[m.UserID] {
			seen[m.UserID] = true
			to = append(to, m.UserID)
		}
	}
	for _, id := range s.also {
		if !seen[id] {
			seen[id] = true
			to = append(to, id)
		}
	}
	lines := append([]msg.Line{msg.L(msg.Strong("【催办】以下事项超期未办结，请督促"))}, s.urged...)
	return toMembers(to, "催办", "overdue/"+s.Slot+"/leaders", msg.S(lines...))
}

// sortItems orders items the most severe first, then the most overdue first.
func sortItems(items []Item) {
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Level != items[j].Level {
			return items[i].Level > items[j].Level
		}
		return items[i].Deadline.Before(items[j].Deadline)
	})
}

// digest is a group's digest of the units that newly crossed a level.
func (s *Scan) digest(crossed []LevelUnits, cal *calendar.Calendar) msg.Section {
	lines := []msg.Line{msg.L(msg.Strong("【超期督办】以下单位新增超期事项"))}
	shown := 0
	for _, lv := range crossed {
		lines = append(lines, levelHeading(lv.Step, ""))
		for _, u := range lv.Units {
			who, _ := mentions(u.Heads)
			line := []msg.Span{msg.Strong(u.Name)}
			if len(who) > 0 {
				line = append(append(line, msg.Text(" ")), who...)
			}
			lines = append(lines, msg.L(append(line, msg.Text(" "+itoa(u.Count)+"项"))...))
			for i, it := range u.Items {
				if i == digestWorst || shown == listCap {
					break
				}
				lines = append(lines, text(s.itemLine(it, cal)))
				shown++
			}
		}
	}
	lines = append(lines, msg.L(msg.Muted("清单已另行发送相关负责人，请抓紧办理并及时反馈。")))
	return msg.S(lines...)
}

// levelHeading is the heading of a level in a digest or a roll-up: its name,
// what it means, and a note.
func levelHeading(step config.Step, note string) msg.Line {
	spans := []msg.Span{msg.Bad(step.Name)}
	if step.Notify == config.NotifyLeader {
		spans = append(spans, msg.Text("（已报区领导）"))
	}
	if note != "" {
		spans = append(spans, msg.Text(" "+note))
	}
	return msg.L(spans...)
}

// list is the app message of one unit's items: a title, a lead line, and
// the items by level, every one of them.
func (s *Scan) list(title, lead string, items []Item, cal *calendar.Calendar) msg.Section {
	lines := []msg.Line{msg.L(msg.Strong(title)), text(lead)}
	for start := 0; start < len(items); {
		end := start
		for end < len(items) && items[end].Level == items[start].Level {
			end++
		}
		lines = append(lines, msg.L(msg.Strong(items[start].Step.Name), msg.Text(" "+itoa(end-start)+"项")))
		lines = append(lines, s.fullLines(items[start:end], cal)...)
		start = end
	}
	return msg.S(lines...)
}

// fullLines are items one a line, all of them: the people responsible get
// the whole list.
func (s *Scan) fullLines(items []Item, cal *calendar.Calendar) []msg.Line {
	out := make([]msg.Line, len(items))
	for i, it := range items {
		out[i] = text(s.itemLine(it, cal))
	}
	return out
}

// itemLine renders one item: · 工单2024112700123 路灯不亮｜超期2小时（第2次提醒）.
func (s *Scan) itemLine(it Item, cal *calendar.Calendar) string {
	line := "· " + it.Label + " " + listTitle(it.Title) + "｜" + Lateness(cal, it.Deadline, s.Now)
	if it.Count > 1 {
		line += "（第" + itoa(it.Count) + "次提醒）"
	}
	return line
}
