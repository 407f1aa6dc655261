package orgimport

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"yanzhen/config"
	"yanzhen/models"
)

// Group is one work group row of an org file (DESIGN §4b): its code, name,
// district, chat id, the robot of config wecom.robots that posts to it, the
// units it covers (codes or names) and its own report and reminder times
// ("" for schedule.report_at and remind_at). Sort orders the groups; 0
// keeps the file's order. The first group (of each district) is the
// default one: a unit listed in no group belongs to it.
type Group struct {
	Code     string   `yaml:"code"`
	Name     string   `yaml:"name"`
	District string   `yaml:"district"`
	ChatID   string   `yaml:"chat_id"`
	Robot    string   `yaml:"robot"`
	Units    []string `yaml:"units"`
	ReportAt string   `yaml:"report_at"`
	RemindAt string   `yaml:"remind_at"`
	Sort     int      `yaml:"sort"`
}

// chatIDPattern is what a WeCom chat id may look like.
var chatIDPattern = regexp.MustCompile(`^[A-Za-z0-9_@.-]{1,128}$`)

// applyGroups writes the group rows after the departments: each group with
// exactly its listed units. A row whose unit is another group's (in the
// file, or in the store and not given up by the file), whose robot is not
// configured, or whose times do not read is refused. The file's groups
// first give up the units they no longer list, so that a unit can move
// from one group to another in one import.
func applyGroups(ctx context.Context, s *models.Store, rows []Row[Group], byCode, byName map[string]*models.Department, robots []string, res *Result) error {
	codes := map[string]int{}
	chats := map[string]int{}
	unitRow := map[uint]int{} // unit → the row of the group that lists it
	type valid struct {
		row Row[Group]
		g   *models.Group
	}
	var ok []valid
	for _, row := range rows {
		g, reason := group(row, byCode, byName, robots)
		if reason != "" {
			res.refuse(row.Sheet, row.Num, "%s", reason)
			continue
		}
		switch {
		case codes[g.Code] > 0:
			reason = fmt.Sprintf("工作群编码 %s 与第 %d 行重复", g.Code, codes[g.Code])
		case g.ChatID != "" && chats[g.ChatID] > 0:
			reason = fmt.Sprintf("群聊 %s 与第 %d 行重复", g.ChatID, chats[g.ChatID])
		}
		for _, id := range g.Units {
			if at, ok := unitRow[id]; ok && reason == "" {
				reason = fmt.Sprintf("单位 %s 已在第 %d 行的工作群中，一个单位只能属于一个工作群", unitText(byCode, id), at)
			}
		}
		if reason != "" {
			res.refuse(row.Sheet, row.Num, "%s", reason)
			continue
		}
		codes[g.Code] = row.Num
		if g.ChatID != "" {
			chats[g.ChatID] = row.Num
		}
		for _, id := range g.Units {
			unitRow[id] = row.Num
		}
		ok = append(ok, valid{row, g})
	}
	if len(ok) == 0 {
		return nil
	}
	stored, err := s.Groups(ctx)
	if err != nil {
		return err
	}
	released := map[string]bool{}
	for _, v := range ok {
		i := slices.IndexFunc(stored, func(g models.Group) bool { return g.Code == v.g.Code })
		if i < 0 {
			continue
		}
		old := stored[i]
		keep := slices.DeleteFunc(slices.Clone(old.Units), func(id uint) bool { return !slices.Contains(v.g.Units, id) })
		if len(keep) == len(old.Units) {
			continue
		}
		old.Units = keep
		if _, err := s.UpsertGroup(ctx, &old); err != nil {
			return err
		}
		released[old.Code] = true
	}
	for _, v := range ok {
		ch, err := s.UpsertGroup(ctx, v.g)
		if err == nil && ch == models.Unchanged && released[v.g.Code] {
			ch = models.Updated
		}
		if _, err := res.record(v.row.Sheet, v.row.Num, ch, err); err != nil {
			return err
		}
	}
	return nil
}

// group validates a group row and resolves its units.
func group(row Row[Group], byCode, byName map[string]*models.Department, robots []string) (*models.Group, string) {
	r := row.Value
	g := &models.Group{
		Code: strings.TrimSpace(r.Code), Name: strings.TrimSpace(r.Name), District: strings.TrimSpace(r.District),
		ChatID: strings.TrimSpace(r.ChatID), Robot: strings.TrimSpace(r.Robot),
		ReportAt: strings.TrimSpace(r.ReportAt), RemindAt: strings.TrimSpace(r.RemindAt), Sort: r.Sort,
	}
	if g.Sort == 0 {
		g.Sort = row.Num
	}
	switch {
	case g.Code == "":
		return nil, "缺少工作群编码"
	case g.Name == "":
		return nil, "缺少工作群名称"
	case g.ChatID != "" && !chatIDPattern.MatchString(g.ChatID):
		return nil, fmt.Sprintf("群聊 chat_id %q 格式不正确", g.ChatID)
	case g.Robot != "" && robots != nil && !slices.Contains(robots, g.Robot):
		return nil, fmt.Sprintf("机器人 %s 未在配置 wecom.robots 中", g.Robot)
	}
	for _, t := range []struct{ name, value string }{{"日报时间", g.ReportAt}, {"提醒时间", g.RemindAt}} {
		if _, err := config.ParseClock(t.value); t.value != "" && err != nil {
			return nil, fmt.Sprintf("%s %q 应为 HH:MM，如 17:30", t.name, t.value)
		}
	}
	if g.ReportAt != "" && g.RemindAt != "" && config.MustClock(g.RemindAt).Minutes() >= config.MustClock(g.ReportAt).Minutes() {
		return nil, fmt.Sprintf("提醒时间 %s 应早于日报时间 %s", g.RemindAt, g.ReportAt)
	}
	for _, u := range cleanList(r.Units) {
		d := byCode[u]
		if d == nil {
			d = byName[nameKey(g.District, u)]
		}
		switch {
		case d == nil:
			return nil, fmt.Sprintf("单位 %s 不存在", u)
		case d.District != g.District:
			return nil, fmt.Sprintf("单位 %s 不属于工作群所在的%s", d.Name, districtText(g.District))
		}
		g.Units = append(g.Units, d.ID)
	}
	return g, ""
}

// districtText names a district in a refusal; "" is the configured one.
func districtText(d string) string {
	if d == "" {
		return "本区"
	}
	return d
}

// unitText names a unit by ID for a refusal.
func unitText(byCode map[string]*models.Department, id uint) string {
	for _, d := range byCode {
		if d.ID == id {
			return d.Name
		}
	}
	return fmt.Sprint(id)
}
