package report

import (
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Raised is a ticket one run of 提级 raised a level: from the unit that held
// it to the level above, with the people of both.
type Raised struct {
	Number, Title string
	// From and To name the units; FromKey and ToKey tell them apart across
	// districts (the district level has no unit).
	From, To       string
	FromKey, ToKey string
	FromLevel      models.Tier
	FromPeople     []*models.Member
	ToPeople       []*models.Member
	// Since is when the ticket came to the level it left; Limit the level's
	// limit in words (5个工作日).
	Since time.Time
	Limit string
	// Group is the work group of the unit it left, which hears of it.
	Group string
}

// RaiseRun is what one run of 提级 says: to the people of each unit a
// ticket left, its list; to those of each unit (or district) it went to,
// theirs; and to each work group of the units left, one notice.
type RaiseRun struct {
	Slot  string
	Now   time.Time
	Items []Raised
}

// Messages returns the run's notices (msg.Notice).
func (r *RaiseRun) Messages(cal Workdays) []msg.Message {
	var out []msg.Message
	line := func(it Raised, from bool) msg.Line {
		s := "· 工单" + it.Number + " " + listTitle(it.Title)
		if from {
			s += "（" + it.From + "）"
		}
		return text(s + "｜在" + levelWord(it.FromLevel) + Age(cal, it.Since, r.Now))
	}
	// To the units left, then to the units reached, each once, in the run's order.
	for _, side := range []bool{false, true} {
		var keys []string
		by := map[string][]Raised{}
		for _, it := range r.Items {
			k := it.FromKey
			if side {
				k = it.ToKey
			}
			if by[k] == nil {
				keys = append(keys, k)
			}
			by[k] = append(by[k], it)
		}
		for _, k := range keys {
			items := by[k]
			first := items[0]
			people, lines := first.FromPeople, []msg.Line{
				msg.L(msg.Strong("【提级】" + first.From)),
				text("以下工单超过" + levelWord(first.FromLevel) + "办理时限（" + first.Limit + "），已提级至" + first.To + "，请抓紧办理并向" + first.To + "反馈："),
			}
			if side {
				people, lines = first.ToPeople, []msg.Line{
					msg.L(msg.Strong("【提级】" + first.To)),
					text("以下工单超过" + levelWord(first.FromLevel) + "办理时限，已提级至" + first.To + "，请督促办理："),
				}
			}
			for _, it := range items {
				lines = append(lines, line(it, side))
			}
			_, ids := mentions(people)
			key := "raise/" + r.Slot + "/from/" + k
			if side {
				key = "raise/" + r.Slot + "/to/" + k
			}
			out = append(out, toMembers(ids, "提级", key, msg.S(lines...))...)
		}
	}
	var groups []string
	byGroup := map[string][]Raised{}
	for _, it := range r.Items {
		if byGroup[it.Group] == nil {
			groups = append(groups, it.Group)
		}
		byGroup[it.Group] = append(byGroup[it.Group], it)
	}
	for _, g := range groups {
		lines := []msg.Line{msg.L(msg.Strong("【提级】以下工单超过本级办理时限，已提级"))}
		for _, it := range byGroup[g] {
			lines = append(lines, text("· 工单"+it.Number+" "+listTitle(it.Title)+"｜"+it.From+"→"+it.To))
		}
		lines = append(lines, msg.L(msg.Muted("清单已另行发送双方负责人。")))
		m := toGroup(g, "提级", "raise/"+r.Slot+"/group/"+g, msg.S(lines...))
		m.Priority = msg.Notice
		out = append(out, m)
	}
	return out
}

// levelWord names a level in a notice: 社区, 街道, 区级部门.
func levelWord(t models.Tier) string {
	switch t {
	case models.TierStreet:
		return "街道"
	case models.TierCommunity:
		return "社区"
	case models.TierDistrict:
		return "区"
	}
	return t.Heading()
}
